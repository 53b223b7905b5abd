"""White noise (`xi`, Euler-Maruyama), the standard library's OU current, and the timed current encoders
(issue #13).

One compiled model serves every test: an `OU` population (its stationary mean and variance against the closed
form of the discretised process), a pure-diffusion state (variance growing as sigma^2 t / tau), and
`step`, `ramp` and `sine` inputs read back through `Expon` readouts with a 1 us time constant (e^-100 of the
last step remains), against their formulas. Runs through `snndsl.runtime.simulate.run` are reproducible
from the seed.
"""

from __future__ import annotations

import brainunit as u
import numpy as np
import pytest

import snndsl
from snndsl.ir.noise import NotAffine, split_noise
from snndsl.ir.text import show_expr
from snndsl.runtime.simulate import run

DT, TAU, SIGMA, MEAN = 0.1, 2.0, 0.2, 0.5     # ms, ms, nA, nA
N, T, BURN = 100, 3000, 500

SOURCE = f"""
import OU, Expon from "std"

neuron Wiener {{
    param sigma: mV = 1 mV
    param tau: ms = 4 ms
    state W: mV = 0 mV
    dW/dt = sigma * xi * tau^-0.5              # Brian2's spelling; no drift: W(t) ~ N(0, sigma^2 t / tau)
}}

network Noise {{
    dt = {DT} ms
    input stepped: current[2] nA = step(1.5 nA, start = 2 ms, stop = 5 ms)
    input swept: current[2] nA = ramp(1 nA, 3 nA, duration = 4 ms, t_start = 1 ms)
    input wave: current[2] nA = sine(2 nA, 100 Hz, phase = 0.3, offset = 0.5 nA)
    input pois: spikes[40] = poisson(rate = uniform(20 Hz, 200 Hz))    # one rate per channel
    pop ou = OU({N}, mean = {MEAN} nA, sigma = {SIGMA} nA, tau = {TAU} ms)
    pop wiener = Wiener({N})
    readout s = Expon(2, tau = 1 us)   # e^(-dt/tau) = e^-100: g is this step's input
    readout r = Expon(2, tau = 1 us)   # e^(-dt/tau) = e^-100: g is this step's input
    readout y = Expon(2, tau = 1 us)   # e^(-dt/tau) = e^-100: g is this step's input
    readout counts = Expon(40, tau = 1 us)
    connect stepped -> s: one_to_one(w = 1)
    connect swept -> r: one_to_one(w = 1)
    connect wave -> y: one_to_one(w = 1)
    connect pois -> counts: one_to_one(w = 1)
    output ou, wiener, s, r, y, counts
}}
"""


@pytest.fixture(scope="module")
def model():
    return snndsl.loads(SOURCE, "noise.snn")


@pytest.fixture(scope="module")
def result(model):
    return run(model, steps=T, seed=7)


def test_ou_stationary_mean_and_variance(result):
    """After a burn-in of 25 tau: mean `mean`, variance the closed form of the Euler-Maruyama process with an
    exponential-Euler drift, sigma^2 (2 dt/tau) / (1 - e^(-2 dt/tau)) (5% above sigma^2 here), within
    sampling error (N neurons x (T - burn-in) steps, correlated over tau / dt = 20 steps)."""
    x = result.outputs["ou"][BURN:]
    assert x.shape == (T - BURN, N)
    discrete = SIGMA ** 2 * (2 * DT / TAU) / (1 - np.exp(-2 * DT / TAU))
    assert abs(x.mean() - MEAN) < 0.01
    assert abs(x.var() / discrete - 1) < 0.06, (x.var(), discrete, SIGMA ** 2)
    # the correlation time: lag-tau autocorrelation e^-1
    lag = int(TAU / DT)
    c = np.mean((x[lag:] - MEAN) * (x[:-lag] - MEAN)) / x.var()
    assert abs(c - np.exp(-1)) < 0.06, c


def test_pure_diffusion_variance_grows_linearly(result):
    """dW/dt = sigma xi tau^-0.5 (no drift, W(0) = 0): Var W(t) = sigma^2 t / tau, the Wiener process (the
    population's output is its membrane, W)."""
    w = result.outputs["wiener"][:400]
    t = (np.arange(1, 401)) * DT
    var = w.var(axis=1)
    expected = 1.0 * t / 4.0
    np.testing.assert_allclose(var[199::100], expected[199::100], rtol=0.35)
    slope = np.polyfit(t, var, 1)[0]
    assert abs(slope / 0.25 - 1) < 0.25, slope


def test_same_seed_same_noise_other_seed_other_noise(model, result):
    """`run(seed=...)` seeds brainstate's random state: the same seed repeats the noise draw for draw (the
    first 50 steps of the seed-7 run), another seed gives other noise."""
    a = run(model, steps=50, seed=7).outputs
    c = run(model, steps=50, seed=8).outputs
    for pop in ("ou", "wiener"):
        np.testing.assert_array_equal(a[pop], result.outputs[pop][:50])
        assert np.abs(a[pop] - c[pop]).max() > 1e-3


def test_timed_encoders(result):
    """step, ramp and sine at t = i dt (the start of step i), every channel alike."""
    t = np.arange(T) * DT
    s, r, y = (result.outputs[k][:, 0] for k in ("s", "r", "y"))
    np.testing.assert_allclose(s, np.where((t >= 2) & (t < 5), 1.5, 0.0), atol=1e-6)
    ramp = np.where((t >= 1) & (t < 5), 1 + 2 * (t - 1) / 4, 0.0)
    np.testing.assert_allclose(r, ramp, atol=1e-4)
    np.testing.assert_allclose(y, 0.5 + 2 * np.sin(2 * np.pi * 0.1 * t + 0.3), atol=1e-3)
    assert np.all(result.outputs["s"][:, 0] == result.outputs["s"][:, 1])


def test_poisson_rates_per_channel(model, result):
    """`poisson(rate = uniform(20 Hz, 200 Hz))` draws one rate per channel when the network is built (from the
    seeded random state: `run` seeds, then builds); each channel fires at its own rate."""
    import brainstate as bs

    bs.random.seed(7)
    drawn = np.asarray(u.get_mantissa(model.network().pois__init.to_decimal(u.Hz)))
    assert drawn.shape == (40,) and drawn.min() >= 20 and drawn.max() <= 200 and drawn.std() > 30
    rates = result.outputs["counts"].mean(axis=0) / (DT / 1000)     # T = 300 ms
    assert np.corrcoef(drawn, rates)[0, 1] > 0.9
    assert abs(rates.mean() / drawn.mean() - 1) < 0.1
    wrong = SOURCE.replace("uniform(20 Hz, 200 Hz)", "uniform(20 ms, 200 ms)")
    with pytest.raises(snndsl.SnnError) as info:
        snndsl.loads(wrong, "noise.snn")
    assert [d.code for d in info.value.errors] == ["SNN305"]


def test_split_noise_algebra():
    """The drift/diffusion split used by checks and lowering: exact on sums, products and quotients."""
    m = snndsl.loads(SOURCE, "noise.snn").program.model("OU")
    split = split_noise(m.odes[0].rhs)
    assert show_expr(split.drift) == "(mean - I) / tau"
    assert show_expr(split.diffusion) == "sigma * sqrt(2.0 / tau)"
    wiener = snndsl.loads(SOURCE, "noise.snn").program.model("Wiener")
    assert split_noise(wiener.odes[0].rhs).drift is None


def test_not_affine_is_refused():
    text = SOURCE.replace("dW/dt = sigma * xi * tau^-0.5", "dW/dt = sigma * exp(xi * sqrt(1 ms)) / tau")
    with pytest.raises(snndsl.SnnError) as info:
        snndsl.loads(text, "noise.snn")
    assert [d.code for d in info.value.errors] == ["SNN262"]
    assert NotAffine is not None


def test_current_encoders_check_their_unit():
    text = SOURCE.replace("step(1.5 nA,", "step(1.5 mV,")
    with pytest.raises(snndsl.SnnError) as info:
        snndsl.loads(text, "noise.snn")
    assert [d.code for d in info.value.errors] == ["SNN305"]
    assert "step(amplitude = 1.5 mV)" in info.value.errors[0].message
    u.ms  # noqa: B018 - brainunit is imported by the model anyway


ARRAY_RATES = """
import Expon from "std"

network Rates {
    dt = 1 ms
    input pois: spikes[4] = poisson(rate = [0, 50, 200, 500] * Hz)    # one rate per channel, as an array
    readout counts = Expon(4, tau = 1 us)
    connect pois -> counts: one_to_one(w = 1)
    output counts
}
"""


def test_poisson_rates_as_an_array():
    """`poisson(rate = [r1, r2, ...] * Hz)`: each channel fires at its own listed rate; an array of the wrong
    length is SNN272 at the encoder."""
    model = snndsl.loads(ARRAY_RATES, "rates.snn")
    out, _ = model.simulate(model.network(), steps=4000, seed=3)
    rates = np.asarray(u.get_mantissa(out)).mean(axis=0) / 1e-3          # 4 s at 1 ms
    np.testing.assert_allclose(rates, [0, 50, 200, 500], atol=25)
    with pytest.raises(snndsl.SnnError) as info:
        snndsl.loads(ARRAY_RATES.replace("[0, 50, 200, 500]", "[50, 200]"), "rates.snn")
    assert [d.code for d in info.value.errors] == ["SNN272"]
