"""Plain numpy implementations of the conformance models in snndsl's documented step order, in float64 or
float32: the third party between the two simulators.

Each function takes the inputs of the matching :mod:`brian2_models` function plus ``dtype`` and returns the
same ``{population: Trace}``. One step ``k`` is, as docs/language.md states it: the reset from the previous
step's spike (and ``on_spike`` updates), the synaptic events arriving in step ``k`` added to the synaptic
current, every ODE integrated from the same old state (a linear system by its propagator ``e^(A dt)``, forward
Euler, or exponential Euler per variable), refractory neurons held at their post-reset value, and the threshold
tested on the new state. In float64 these agree with Brian2 to rounding (which checks the Brian2 twins and the
step-order mapping of docs/conformance.md); in float32 they measure what float32 arithmetic alone costs, the
floor under the trace tolerance.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import expm

from . import brian2_models as b2m
from .harness import spike_steps

Trace = b2m.Trace


def _lif(drive, tau_m, tau_s, arrivals, dtype, v_reset, n_ref=0, r=100.0, e_l=-70.0, v_th=-50.0, dt=0.1):
    """LIF neurons with an exponential current synapse each, integrated jointly and exactly; mV, ms, nA, MOhm.

    ``drive`` [steps, n] bias currents, ``tau_m`` [n]; ``arrivals(k, spikes)`` the current added to the synaptic
    current in step ``k`` given the spike matrix so far. Returns the spike matrix and the V trace."""
    steps, n = drive.shape
    props = np.stack([expm(np.array([[-1 / tm, r / tm], [0.0, -1 / tau_s]]) * dt) for tm in tau_m]).astype(dtype)
    drive = np.asarray(drive, dtype)
    u_v, i_s = np.full(n, e_l, dtype), np.zeros(n, dtype)
    spikes, trace = np.zeros((steps, n), bool), np.zeros((steps, n))
    last, s = np.full(n, -10**9), np.zeros(n, bool)
    for k in range(steps):
        v = np.where(s, dtype(v_reset), u_v)
        held = v
        i_s = i_s + np.asarray(arrivals(k, spikes), dtype)
        x = v - dtype(e_l) - dtype(r) * drive[k]                       # distance from the biased rest
        x, i_s = props[:, 0, 0] * x + props[:, 0, 1] * i_s, props[:, 1, 1] * i_s
        u_v = x + dtype(e_l) + dtype(r) * drive[k]
        u_v = np.where(k - last < n_ref, held, u_v)
        s = u_v >= v_th
        last = np.where(s, k, last)
        spikes[k], trace[k] = s, u_v
    return spikes, trace


def lif_refractory(stim, dtype=np.float64) -> dict:
    """Model 1 (no synaptic input). A spike in step ``k`` holds V in steps ``k + 1 ... k + n - 1``, ``n`` the
    refractory period in steps rounded down (Brian2's ``timestep``: 2 ms -> 20, 1.55 ms -> 15)."""
    n = stim.shape[1]
    out = {}
    for pop, n_ref in (("lif", 20), ("frac", 15)):
        s, v = _lif(stim, np.full(n, 10.0), 5.0, lambda k, sp: np.zeros(n), dtype, v_reset=-65.0, n_ref=n_ref)
        out[pop] = Trace(spike_steps(s), v)
    return out


def lif_expsyn(trains, steps, dtype=np.float64) -> dict:
    """Model 2: a spike of ``trains`` at step ``k`` arrives in step ``k + 1`` (snndsl's ``delay = 0.1 ms``)."""
    n = len(trains)
    arrive = np.zeros((steps + 1, n))
    for i, t in enumerate(trains):
        arrive[np.asarray(t) + 1, i] = 0.12
    s, v = _lif(np.full((steps, n), 0.15), np.full(n, 20.0), 5.0, lambda k, sp: arrive[k], dtype, v_reset=-70.0)
    return {"post": Trace(spike_steps(s), v)}


def ei_net(drive_e, drive_i, dtype=np.float64) -> dict:
    """Model 6: a spike of step ``j`` on a projection of delay ``n`` steps arrives in step ``j + n``."""
    ne, ni = drive_e.shape[1], drive_i.shape[1]
    kind = np.r_[np.zeros(ne, int), np.ones(ni, int)]                  # 0 excitatory, 1 inhibitory
    names = np.array([["ee", "ei"], ["ie", "ii"]])
    label = names[kind[:, None], kind[None, :]]                       # [pre, post]
    w = np.vectorize(b2m.EI_WEIGHTS_NA.get)(label)
    delay = np.rint(np.vectorize(b2m.EI_DELAYS_MS.get)(label) / 0.1).astype(int)

    def arrivals(k, spikes):
        src = k - delay                                               # the step each synapse reads
        ok = src >= 0
        fired = np.zeros_like(ok)
        fired[ok] = spikes[src[ok], np.nonzero(ok)[0]]
        return (w * fired).sum(axis=0)

    tau_m = np.repeat([b2m.EI_TAU_M_MS["exc"], b2m.EI_TAU_M_MS["inh"]], [ne, ni])
    s, v = _lif(np.concatenate([drive_e, drive_i], axis=1), tau_m, 5.0, arrivals, dtype, v_reset=-65.0, n_ref=20)
    return {"exc": Trace(spike_steps(s[:, :ne]), v[:, :ne]), "inh": Trace(spike_steps(s[:, ne:]), v[:, ne:])}


def izhikevich(stim, dtype=np.float64) -> dict:
    """Model 3, forward Euler, both ODEs from the old state."""
    out = {}
    for name, p in b2m.IZH_CLASSES.items():
        a, b, c, d, dt = (dtype(x) for x in (p["a"], 0.2, p["c"], p["d"], 0.1))
        x = np.asarray(stim, dtype)
        v, u = np.full(x.shape[1], -65.0, dtype), np.full(x.shape[1], -13.0, dtype)
        s = np.zeros(x.shape[1], bool)
        spikes, trace = np.zeros(x.shape, bool), np.zeros(x.shape)
        for k in range(x.shape[0]):
            v, u = np.where(s, c, v), u + d * s
            dv = dtype(0.04) * v * v + dtype(5) * v + dtype(140) - u + x[k]
            du = a * (b * v - u)
            v, u = v + dt * dv, u + dt * du
            s = v >= 30
            spikes[k], trace[k] = s, v
        out[name] = Trace(spike_steps(spikes), trace)
    return out


def adex(stim, dtype=np.float64) -> dict:
    """Model 4, forward Euler, both ODEs from the old state; nA, mV, ms, nF, uS."""
    c_m, g_l, e_l, v_t, d_t, tau_w, a, b, v_r, v_cut, dt = (dtype(x) for x in (
        0.281, 0.03, -70.6, -50.4, 2.0, 144.0, 0.004, 0.0805, -70.6, -40.4, 0.1))
    x = np.asarray(stim, dtype)
    v, w, s = np.full(x.shape[1], e_l, dtype), np.zeros(x.shape[1], dtype), np.zeros(x.shape[1], bool)
    spikes, trace = np.zeros(x.shape, bool), np.zeros(x.shape)
    for k in range(x.shape[0]):
        v, w = np.where(s, v_r, v), w + b * s
        dv = (-g_l * (v - e_l) + g_l * d_t * np.exp((v - v_t) / d_t) - w + x[k]) / c_m
        dw = (a * (v - e_l) - w) / tau_w
        v, w = v + dt * dv, w + dt * dw
        s = v >= v_cut
        spikes[k], trace[k] = s, v
    return {"adex": Trace(spike_steps(spikes), trace)}


def _exprel(z):
    """(e^z - 1) / z, 1 at 0."""
    safe = np.where(z == 0, 1, z)
    return np.where(z == 0, 1, np.expm1(safe) / safe)


def hh(stim, dtype=np.float64) -> dict:
    """Model 5, exponential Euler per variable, all from the old state; mV, ms, uA/cm^2, mS/cm^2, uF/cm^2."""
    dt = dtype(0.01)
    x = np.asarray(stim, dtype)
    n = x.shape[1]
    v = np.full(n, -65.0, dtype)
    gates = [np.full(n, g, dtype) for g in (0.0529, 0.5961, 0.3177)]
    spikes, trace = np.zeros(x.shape, bool), np.zeros(x.shape)
    for k in range(x.shape[0]):
        m, h, nn = gates
        rates = [(1 / _exprel(-(v + 40) / 10), 4 * np.exp(-(v + 65) / 18)),
                 (0.07 * np.exp(-(v + 65) / 20), 1 / (1 + np.exp(-(v + 35) / 10))),
                 (0.1 / _exprel(-(v + 55) / 10), 0.125 * np.exp(-(v + 65) / 80))]
        g_na, g_k = 120 * m**3 * h, 36 * nn**4
        g = g_na + g_k + dtype(0.3)
        v_inf = (g_na * 50 + g_k * -77 + dtype(0.3) * dtype(-54.387) + x[k]) / g
        v_new = v_inf + (v - v_inf) * np.exp(-g * dt)
        gates = [(al / (al + be) + (y - al / (al + be)) * np.exp(-(al + be) * dt)).astype(dtype)
                 for y, (al, be) in zip(gates, rates)]
        v = v_new.astype(dtype)
        spikes[k], trace[k] = v >= -20, v
    return {"hh": Trace(spike_steps(spikes, onsets=True), trace)}
