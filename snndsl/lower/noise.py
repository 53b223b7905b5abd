"""Euler-Maruyama: the white-noise step of an ODE ``dX/dt = f + g xi``, after its deterministic step.

Per time step of length dt, for each state X whose ODE mentions ``xi`` (:mod:`snndsl.ir.noise`):

1. ``X__noise = g``: the diffusion, evaluated from the state at the start of the integration (Ito);
2. the drift ``f`` is integrated by the model's method exactly as an ODE without noise (this module only
   hands the model's integrator the drift, :func:`drift_odes`);
3. ``X = X + X__noise * sqrt(dt) * N(0, 1)``: one standard normal draw per neuron (and sample) from
   brainstate's random state, so runs follow the simulation seed (``bs.random.seed``) and are reproducible.

So X(t + dt) = Phi_f(X, dt) + g sqrt(dt) N(0, 1), Phi_f the deterministic step. With exponential Euler and
an additive g this is the exact discretisation of an Ornstein-Uhlenbeck process up to the noise's variance
factor (2 dt / tau) / (1 - e^(-2 dt / tau)) = 1 + dt/tau + O(dt^2).
"""

from __future__ import annotations

import ast
from typing import Any

from snndsl import ir
from snndsl.ir.noise import split_noise, without_noise
from snndsl.lower import emit as E


def diffusions(model: ir.Model) -> list[tuple[str, ir.Expr]]:
    """``(state, g)`` for every ODE of ``model`` with a noise term ``g * xi``, in declaration order."""
    out = []
    for ode in model.odes:
        g = split_noise(ode.rhs).diffusion
        if g is not None:
            out.append((ode.var, g))
    return out


def drift_odes(model: ir.Model) -> list[ir.OdeDef]:
    """The model's ODEs with their noise terms removed (the drift ``f`` of ``f + g xi``); an ODE that is
    pure noise (no drift) has no deterministic step and is left out (:func:`snndsl.ir.noise.without_noise`)."""
    return list(without_noise(model).odes)


def noise_coefficients(low: Any) -> list[E.Stmt]:
    """``X__noise = g`` for each noisy state, from the locals before the deterministic steps; ``low`` is the
    model's :class:`~snndsl.lower.models.ModelLowering` (its model ``m`` and expression lowering ``ex``)."""
    return [E.assign(E.derived(E.py_name(var), "noise"), low.ex(g), f"noise of d{var}/dt (Euler-Maruyama)")
            for var, g in diffusions(low.m)]


def noise_increments(low: Any) -> list[E.Stmt]:
    """``X = X + X__noise * sqrt(dt) * randn(shape of X)`` for each noisy state (after every deterministic
    step): the Wiener increment dW = sqrt(dt) N(0, 1), one draw per element."""
    out = []
    sqrt_dt = E.call(E.attr("u", "math", "sqrt"), E.call(E.attr("bs", "environ", "get_dt")))
    for var, _ in diffusions(low.m):
        x = E.py_name(var)
        shape = E.call(E.attr("jnp", "shape"), E.call(E.attr("u", "get_mantissa"), E.name(x)))
        draw = E.call(E.attr("bs", "random", "randn"), ast.Starred(shape, ast.Load()))
        dw = E.binop("*", sqrt_dt, draw)
        out.append(E.assign(x, E.binop("+", E.name(x), E.binop("*", E.name(E.derived(x, "noise")), dw)),
                            f"Euler-Maruyama: d{var} += g dW"))
    return out
