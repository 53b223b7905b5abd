"""Registry machinery: :class:`Entry` (a name the language can call), its :class:`Param` signature, the
:class:`Target` it lowers to, and the typed hooks other phases implement for it.

An entry owns its behaviour. What is plain data lives on the entry itself: the signature (resolution binds
and unit-checks call arguments generically from it), a library :class:`Target` (the class or function the
emitted module calls, e.g. ``braintools.surrogate.ReluGrad``), and registry-specific ``traits`` (a frozen
record such as :class:`snndsl.registry.model_entries.MathFunction`). What needs a later phase is a *hook*:
the entry declares the hooks it needs (``needs``), and the phase that owns that behaviour implements them
with :meth:`Registry.implement` (lowering in :mod:`snndsl.lower.builtins`, data loading in
:mod:`snndsl.runtime.data`). Phases never branch on an entry's name: they call ``entry.hook("lower")``.
``tests/test_registry.py`` checks that every declared hook is implemented and every target exists.

Checking a model imports no JAX: nothing here imports a library; targets are resolved only by tests.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable, Iterator

import attrs

REQUIRED = object()  # sentinel: a parameter without default

#: How the emitted module names each library it imports (``import braintools as bt``).
ALIASES = {"brainstate": "bs", "braintools": "bt", "brainunit": "u", "jax": "jax", "jax.numpy": "jnp",
           "braintrace": "braintrace"}


@attrs.frozen
class Param:
    """One parameter of a registry entry.

    ``kind`` is ``number`` (a dimensionless number), ``int``, ``bool``, ``quantity`` (a value whose dimension
    is ``unit``, a unit name such as ``"mV"``, or ``"any"``), ``unit`` (a unit such as ``mA``), ``string``,
    ``init`` (an initialiser call or a constant quantity), ``lr`` (a number or a schedule call), ``call:X``
    (an entry of registry X) or ``expr`` (an expression left to the lowering, e.g. a loss operand).
    """

    name: str
    #: what the argument must be (see above); resolution converts and checks it accordingly
    kind: str = "number"
    #: the value when the call leaves the argument out; :data:`REQUIRED` when it must be given (SNN204)
    default: Any = REQUIRED
    #: for ``quantity``: the unit name whose dimension the value must have (SNN305), or ``"any"``
    unit: str | None = None

    @property
    def required(self) -> bool:
        """Whether a call must give this argument (it has no default)."""
        return self.default is REQUIRED


@attrs.frozen
class Target:
    """A class or function in a library the emitted module imports: ``Target("braintools", "surrogate.Sigmoid")``
    is emitted as ``bt.surrogate.Sigmoid``."""

    module: str = attrs.field(validator=attrs.validators.in_(ALIASES))
    path: str

    @property
    def parts(self) -> tuple[str, ...]:
        """The attribute chain from the module's alias: ``("bt", "surrogate", "Sigmoid")``."""
        return (ALIASES[self.module], *self.path.split("."))

    def resolve(self) -> Any:
        """The library object itself (imports the library: for tests and tools, never while checking)."""
        obj: Any = importlib.import_module(self.module)
        for part in self.path.split("."):
            obj = getattr(obj, part)
        return obj

    def __str__(self) -> str:
        return f"{self.module}.{self.path}"


class HookMissing(LookupError):
    """An entry's hook was called before any phase implemented it (a bug in snndsl, never a user error)."""


@attrs.frozen
class Entry:
    """A named thing the language can call: ``name(params...)``.

    ``target`` is the library object the call lowers to, when one does the job; ``traits`` holds the
    registry's typed facts about the entry; ``needs`` names the hooks later phases implement for it.

    ``params`` is the signature: a call's positional arguments bind in this order, named ones by name, and
    every parameter appears in the resolved :class:`snndsl.ir.Spec` (defaults filled in), so the lowering
    can pass them to ``target`` by name. ``doc`` is a one-line description for people reading the table.
    """

    name: str
    params: tuple[Param, ...] = ()
    doc: str = ""
    target: Target | None = None
    traits: Any = None
    needs: tuple[str, ...] = ()
    _hooks: dict[str, Callable[..., Any]] = attrs.field(factory=dict, eq=False, repr=False, init=False)

    def param(self, name: str) -> Param | None:
        """The parameter called ``name``, if the entry has one."""
        return next((p for p in self.params if p.name == name), None)

    def hook(self, name: str) -> Callable[..., Any]:
        """The implementation of hook ``name``; raises :class:`HookMissing` when no phase implemented it."""
        try:
            return self._hooks[name]
        except KeyError:
            raise HookMissing(f"{self.name}: no `{name}` hook is implemented") from None

    def implemented(self) -> tuple[str, ...]:
        """The hooks implemented so far, sorted."""
        return tuple(sorted(self._hooks))


class Registry:
    """A table of :class:`Entry` by name; ``what`` names the table in messages, ``code`` is its SNN2xx code
    (unknown names are reported under it)."""

    def __init__(self, what: str, code: str, entries: tuple[Entry, ...] = ()):
        """A table named ``what`` (``"surrogate"``) reporting unknown names under ``code``, holding
        ``entries`` (:meth:`register` each: ``ValueError`` for a name given twice)."""
        self.what, self.code = what, code
        self._entries: dict[str, Entry] = {}
        for e in entries:
            self.register(e)

    def register(self, entry: Entry) -> Entry:
        """Add ``entry`` and return it; a name may be registered once (``ValueError`` otherwise)."""
        if entry.name in self._entries:
            raise ValueError(f"{self.what} {entry.name!r} is registered twice")
        self._entries[entry.name] = entry
        return entry

    def implement(self, hook: str, *names: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator: the function implements hook ``hook`` of the entries ``names`` (each must declare it).

        Returns the function unchanged, so one function may implement the hook of several entries
        (``@INTEGRATORS.implement("lower", "exp_euler", "exact")``). Raises ``KeyError`` for an unknown
        name and ``ValueError`` when an entry does not declare ``hook`` in ``needs`` or already has it.
        """
        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            for name in names:
                entry = self._entries[name]
                if hook not in entry.needs:
                    raise ValueError(f"{self.what} {name!r} does not declare a `{hook}` hook")
                if hook in entry._hooks:
                    raise ValueError(f"{self.what} {name!r}: `{hook}` is implemented twice")
                entry._hooks[hook] = fn
            return fn
        return register

    def get(self, name: str) -> Entry | None:
        """The entry called ``name``, or ``None``."""
        return self._entries.get(name)

    def __getitem__(self, name: str) -> Entry:
        """The entry called ``name``; ``KeyError`` when there is none (after checks, names are known)."""
        return self._entries[name]

    def names(self) -> list[str]:
        """Every entry's name, sorted."""
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)
