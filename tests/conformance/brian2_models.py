"""The Brian2 twins of the conformance models (tests/conformance/*.snn), written independently from Brian2's
documentation: NeuronGroup equations, thresholds, resets, Synapses with ``on_pre``, numpy code generation.

Every function takes the same deterministic inputs as the .snn twin (``[steps, channels]`` arrays, and spike
trains as step indices) and returns ``{population: Trace}``, with

* ``spikes``: per neuron, the step index ``k`` of each spike, ``k = round(t / dt)`` for Brian2's spike time
  ``t`` (Brian2 registers a threshold crossing in the step that integrated from ``t`` to ``t + dt``, the step
  snndsl reports the spike in);
* ``v``: the membrane potential in mV, ``[steps, neurons]``, recorded right after the state update of each
  step (``StateMonitor(when='groups', order=1)``: before the threshold, synaptic effects and the reset), which
  is what snndsl records for ``pop.V`` (its reset applies at the start of the next step).

Step-order mapping (docs/conformance.md): an external current ``stim[k]`` is written into the group at the
start of step ``k`` (``run_regularly(..., when='start')``), as snndsl reads its data input in step ``k``. A
spike delivered by ``Synapses(on_pre=...)`` in step ``k`` enters the state after step ``k``'s integration, so
it acts from step ``k + 1`` on; snndsl adds a projection's input before the target integrates, so a Brian2
delay ``d`` is an snndsl delay ``d + dt``.
"""

from __future__ import annotations

import attrs
import numpy as np


@attrs.frozen
class Trace:
    """One population's result: ``spikes`` (per neuron, an int array of spike steps) and ``v`` (mV,
    ``[steps, neurons]``)."""

    spikes: tuple
    v: np.ndarray


def _b2():
    """brian2, with the numpy target (no compiler needed) and a fresh scope."""
    import brian2

    brian2.prefs.codegen.target = "numpy"
    brian2.start_scope()
    return brian2


def _run(b2, dt, steps, groups, extra=()):
    """Run ``groups`` ({name: NeuronGroup}) and ``extra`` objects for ``steps`` steps of ``dt`` (a Brian2
    quantity) and collect a :class:`Trace` per group."""
    b2.defaultclock.dt = dt
    spk = {k: b2.SpikeMonitor(g) for k, g in groups.items()}
    mon = {k: b2.StateMonitor(g, "v", record=True, when="groups", order=1) for k, g in groups.items()}
    net = b2.Network(*groups.values(), *extra, *spk.values(), *mon.values())
    net.run(steps * dt)
    out = {}
    for k, g in groups.items():
        trains = spk[k].spike_trains()
        spikes = tuple(np.rint(np.asarray(trains[i] / dt)).astype(np.int64) for i in range(len(g)))
        out[k] = Trace(spikes, np.asarray(mon[k].v / b2.mV).T.copy())
    return out


def _stim(b2, group, values, unit, dt, name="stim"):
    """Drive ``group``'s parameter ``I`` with ``values`` ``[steps, neurons]`` (in ``unit``): step ``k`` reads
    row ``k``, written at the start of the step."""
    group.namespace[name] = b2.TimedArray(np.asarray(values, np.float64) * unit, dt=dt)
    group.run_regularly(f"I = {name}(t, i)", when="start")


def _split(trace: Trace, sizes: dict) -> dict:
    """``trace`` of one group cut into consecutive populations of ``sizes`` ({name: size})."""
    out, start = {}, 0
    for name, n in sizes.items():
        out[name] = Trace(trace.spikes[start:start + n], trace.v[:, start:start + n])
        start += n
    return out


def lif_refractory(stim: np.ndarray) -> dict:
    """Model 1: LIF, hard reset, exact; ``stim`` [steps, 5] in nA drives population ``lif`` (2 ms refractory)
    and ``frac`` (1.55 ms), one group with a per-neuron ``t_ref``."""
    b2 = _b2()
    ms, mV, nA, Mohm = b2.ms, b2.mV, b2.nA, b2.Mohm
    dt = 0.1 * ms
    n = stim.shape[1]
    eqs = """dv/dt = (E_L - v + R * I) / tau_m : volt (unless refractory)
             I : amp
             t_ref : second (constant)"""
    g = b2.NeuronGroup(2 * n, eqs, threshold="v >= V_th", reset="v = V_reset", refractory="t_ref",
                       method="exact",
                       namespace=dict(tau_m=10 * ms, R=100 * Mohm, E_L=-70 * mV, V_reset=-65 * mV, V_th=-50 * mV))
    g.v = -70 * mV
    g.t_ref = np.repeat([2.0, 1.55], n) * ms
    _stim(b2, g, np.tile(stim, (1, 2)), nA, dt)
    return _split(_run(b2, dt, stim.shape[0], {"all": g})["all"], {"lif": n, "frac": n})


def lif_expsyn(trains: list, steps: int) -> dict:
    """Model 2: LIF + exponential current synapse, one NeuronGroup integrated jointly by ``exact``; neuron
    ``i`` receives ``trains[i]`` (spike steps) through a 0.12 nA synapse without delay."""
    b2 = _b2()
    ms, mV, nA, Mohm = b2.ms, b2.mV, b2.nA, b2.Mohm
    dt = 0.1 * ms
    n = len(trains)
    eqs = """dv/dt = (E_L - v + R * (I + I_b)) / tau_m : volt
             dI/dt = -I / tau_s : amp"""
    g = b2.NeuronGroup(n, eqs, threshold="v >= V_th", reset="v = V_reset", method="exact",
                       namespace=dict(tau_m=20 * ms, tau_s=5 * ms, R=100 * Mohm, E_L=-70 * mV, V_reset=-70 * mV,
                                      V_th=-50 * mV, I_b=0.15 * nA))
    g.v = -70 * mV
    idx = np.concatenate([np.full(len(t), i) for i, t in enumerate(trains)])
    times = np.concatenate([np.asarray(t, np.float64) for t in trains]) * dt
    pre = b2.SpikeGeneratorGroup(n, idx, times)
    syn = b2.Synapses(pre, g, on_pre="I += 0.12 * nA")
    syn.connect(j="i")
    return _run(b2, dt, steps, {"post": g}, (pre, syn))


IZH_CLASSES = {"rs": dict(a=0.02, c=-65.0, d=8.0), "ch": dict(a=0.02, c=-50.0, d=2.0),
               "fast": dict(a=0.1, c=-65.0, d=2.0)}


def izhikevich(stim: np.ndarray) -> dict:
    """Model 3: Izhikevich (2003), forward Euler; one population per class of :data:`IZH_CLASSES` (in 1/ms,
    mV, mV/ms; b = 0.2/ms), its neuron ``i`` driven by ``stim[:, i]`` (mV/ms). One NeuronGroup holds all
    classes (per-neuron a, c, d), which keeps Brian2's per-step overhead down."""
    b2 = _b2()
    ms, mV = b2.ms, b2.mV
    dt = 0.1 * ms
    eqs = """dv/dt = 0.04 / (ms * mV) * v**2 + 5 / ms * v + 140 * mV / ms - u + I : volt
             du/dt = a * (b * v - u) : volt / second
             I : volt / second
             a : 1 / second (constant)
             c : volt (constant)
             d : volt / second (constant)"""
    n = stim.shape[1]
    g = b2.NeuronGroup(n * len(IZH_CLASSES), eqs, threshold="v >= 30 * mV", reset="v = c\nu += d",
                       method="euler", namespace=dict(b=0.2 / ms))
    g.a = np.repeat([p["a"] for p in IZH_CLASSES.values()], n) / ms
    g.c = np.repeat([p["c"] for p in IZH_CLASSES.values()], n) * mV
    g.d = np.repeat([p["d"] for p in IZH_CLASSES.values()], n) * mV / ms
    g.v = -65 * mV
    g.u = -13 * mV / ms
    _stim(b2, g, np.tile(stim, (1, len(IZH_CLASSES))), mV / ms, dt)
    return _split(_run(b2, dt, stim.shape[0], {"all": g})["all"], dict.fromkeys(IZH_CLASSES, n))


def adex(stim: np.ndarray) -> dict:
    """Model 4: AdEx (Brette & Gerstner 2005), forward Euler, spike cut at V_T + 5 Delta_T; ``stim`` in nA."""
    b2 = _b2()
    ms, mV, nA, nS, pF = b2.ms, b2.mV, b2.nA, b2.nS, b2.pF
    dt = 0.1 * ms
    eqs = """dv/dt = (-g_L * (v - E_L) + g_L * Delta_T * exp((v - V_T) / Delta_T) - w + I) / C : volt
             dw/dt = (a * (v - E_L) - w) / tau_w : amp
             I : amp"""
    g = b2.NeuronGroup(stim.shape[1], eqs, threshold="v >= V_cut", reset="v = V_r\nw += b", method="euler",
                       namespace=dict(C=281 * pF, g_L=30 * nS, E_L=-70.6 * mV, V_T=-50.4 * mV, Delta_T=2 * mV,
                                      tau_w=144 * ms, a=4 * nS, b=0.0805 * nA, V_r=-70.6 * mV, V_cut=-40.4 * mV))
    g.v = -70.6 * mV
    _stim(b2, g, stim, nA, dt)
    return _run(b2, dt, stim.shape[0], {"adex": g})


def hh(stim: np.ndarray) -> dict:
    """Model 5: Hodgkin-Huxley, exponential Euler at dt = 0.01 ms; a spike is an upward crossing of -20 mV
    (threshold plus the refractory condition ``v >= -20*mV``); ``stim`` in uA/cm^2."""
    b2 = _b2()
    ms, mV, uA, mS, uF, cm = b2.ms, b2.mV, b2.uA, b2.msiemens, b2.uF, b2.cmetre
    dt = 0.01 * ms
    eqs = """dv/dt = (g_Na * m**3 * h * (E_Na - v) + g_K * n**4 * (E_K - v) + g_L * (E_L - v) + I) / C_m : volt
             dm/dt = alpha_m * (1 - m) - beta_m * m : 1
             dh/dt = alpha_h * (1 - h) - beta_h * h : 1
             dn/dt = alpha_n * (1 - n) - beta_n * n : 1
             alpha_m = 1 / ms / exprel(-(v + 40 * mV) / (10 * mV)) : Hz
             beta_m = 4 / ms * exp(-(v + 65 * mV) / (18 * mV)) : Hz
             alpha_h = 0.07 / ms * exp(-(v + 65 * mV) / (20 * mV)) : Hz
             beta_h = 1 / ms / (1 + exp(-(v + 35 * mV) / (10 * mV))) : Hz
             alpha_n = 0.1 / ms / exprel(-(v + 55 * mV) / (10 * mV)) : Hz
             beta_n = 0.125 / ms * exp(-(v + 65 * mV) / (80 * mV)) : Hz
             I : amp / meter**2"""
    g = b2.NeuronGroup(stim.shape[1], eqs, threshold="v >= -20 * mV", refractory="v >= -20 * mV",
                       method="exponential_euler",
                       namespace=dict(C_m=1 * uF / cm**2, g_Na=120 * mS / cm**2, g_K=36 * mS / cm**2,
                                      g_L=0.3 * mS / cm**2, E_Na=50 * mV, E_K=-77 * mV, E_L=-54.387 * mV))
    g.v = -65 * mV
    g.m, g.h, g.n = 0.0529, 0.5961, 0.3177
    _stim(b2, g, stim, uA / cm**2, dt)
    return _run(b2, dt, stim.shape[0], {"hh": g})


EI_DELAYS_MS = {"ee": 1.5, "ei": 2.0, "ie": 3.0, "ii": 2.5}   # the snndsl delays; Brian2 uses each minus dt
EI_WEIGHTS_NA = {"ee": 0.02, "ei": 0.03, "ie": -0.08, "ii": -0.05}
EI_TAU_M_MS = {"exc": 20.0, "inh": 12.0}


def ei_net(drive_e: np.ndarray, drive_i: np.ndarray) -> dict:
    """Model 6: 20 excitatory + 5 inhibitory LIF (hard reset, 2 ms refractory, exact; membrane time constants
    :data:`EI_TAU_M_MS`), all-to-all (autapses included) through exponential current synapses (5 ms) with the
    weights :data:`EI_WEIGHTS_NA` and the delays of :data:`EI_DELAYS_MS` minus one dt; constant drives
    ``[steps, 20]`` and ``[steps, 5]`` in nA.

    One NeuronGroup holds both populations and one Synapses object all four projections (per-synapse weight
    and delay), which keeps Brian2's per-step overhead down; a single synaptic current per neuron keeps the
    linear system 2x2 (sympy takes seconds to solve a 3x3 one for ``exact``)."""
    b2 = _b2()
    ms, mV, nA, Mohm = b2.ms, b2.mV, b2.nA, b2.Mohm
    dt = 0.1 * ms
    ne, ni = drive_e.shape[1], drive_i.shape[1]
    eqs = """dv/dt = (E_L - v + R * (I + I_s)) / tau_m : volt (unless refractory)
             dI_s/dt = -I_s / (5 * ms) : amp
             I : amp
             tau_m : second (constant)"""
    g = b2.NeuronGroup(ne + ni, eqs, threshold="v >= V_th", reset="v = V_reset", refractory=2 * ms,
                       method="exact", namespace=dict(R=100 * Mohm, E_L=-70 * mV, V_reset=-65 * mV, V_th=-50 * mV))
    g.v = -70 * mV
    g.tau_m = np.repeat([EI_TAU_M_MS["exc"], EI_TAU_M_MS["inh"]], [ne, ni]) * ms
    _stim(b2, g, np.concatenate([drive_e, drive_i], axis=1), nA, dt)
    syn = b2.Synapses(g, g, "w : amp (constant)", on_pre="I_s_post += w")
    syn.connect()
    pre_e, post_e = syn.i[:] < ne, syn.j[:] < ne
    label = np.where(pre_e, np.where(post_e, "ee", "ei"), np.where(post_e, "ie", "ii"))
    syn.w = np.array([EI_WEIGHTS_NA[k] for k in label]) * nA
    syn.delay = (np.array([EI_DELAYS_MS[k] for k in label]) - 0.1) * ms
    return _split(_run(b2, dt, drive_e.shape[0], {"all": g}, (syn,))["all"], {"exc": ne, "inh": ni})
