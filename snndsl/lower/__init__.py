"""Checked IR → the emitted Python module (one lowering path: ``compile`` writes it, ``load`` executes it).

The module imports only jax, brainstate, brainunit and braintools (and braintrace when trained online),
carries the helpers of :mod:`snndsl.lower.prelude` it uses, one class per model (and set of trainable
parameters) and per network, and ``simulate``.
"""

from __future__ import annotations

import ast
import functools
from importlib import resources

import attrs

from snndsl import ir
from snndsl.lower import emit as E
from snndsl.lower import builtins  # noqa: F401  (implements the registry's lowering hooks)
from snndsl.lower.network import NetworkLowering, model_classes


@attrs.frozen
class Helper:
    """A top-level definition of prelude.py: ``name``, its source ``text`` exactly as written (decorators
    and docstring included; it is copied verbatim into modules that use it) and ``uses``, the names of other
    prelude definitions and imports it reads."""

    name: str
    text: str
    uses: frozenset[str]


#: The files of the prelude, read in this order (prelude_plastic.py: the helpers of plastic projections).
PRELUDE_FILES = ("prelude.py", "prelude_plastic.py", "prelude_train.py")


@functools.cache
def prelude_definitions() -> tuple[tuple[tuple[str, str | None], ...], dict[str, Helper]]:
    """The prelude's imports ``(module, alias)`` and its definitions by name, in file order
    (:data:`PRELUDE_FILES`; ``from`` imports, by which a later file reads an earlier one's helpers, are
    not copied).

    Read from the installed package once (cached) and parsed with :mod:`ast`: nothing in prelude.py is
    imported or executed here. ``uses`` of each :class:`Helper` are the names it loads that prelude.py
    defines or imports (its own name excluded).
    """
    parts = [(tree, text.splitlines()) for text in
             (resources.files("snndsl.lower").joinpath(f).read_text(encoding="utf-8") for f in PRELUDE_FILES)
             for tree in [ast.parse(text)]]
    imports = tuple(dict.fromkeys((a.name, a.asname) for tree, _ in parts for n in tree.body
                                  if isinstance(n, ast.Import) for a in n.names))
    defs = [(n, lines) for tree, lines in parts for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    known = {d.name for d, _ in defs} | {alias or module for module, alias in imports}
    helpers = {}
    for d, lines in defs:
        start = min([d.lineno] + [x.lineno for x in d.decorator_list])
        read = {n.id for n in ast.walk(d) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        uses = frozenset((read & known) - {d.name})
        helpers[d.name] = Helper(d.name, "\n".join(lines[start - 1:d.end_lineno]), uses)
    return imports, helpers


def needed(roots: set[str]) -> list[Helper]:
    """The prelude definitions named in ``roots``, and what they read, transitively; in prelude order."""
    helpers = prelude_definitions()[1]
    todo, seen = [n for n in roots if n in helpers], set()
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += [n for n in helpers[name].uses if n in helpers]
    return [h for name, h in helpers.items() if name in seen]


def emit_module(program: ir.Program, source_name: str) -> str:
    """The module text for every network of ``program`` (with the models they use).

    Layout: the docstring naming ``source_name``; the library imports the module reads; the prelude
    helpers it reads (:func:`needed`), verbatim; one class per model variant
    (:func:`~snndsl.lower.network.model_classes`), each once even when several networks use it; one class
    per network; with a train block, ``loss_fn`` and ``make_trainer`` for the first one
    (:mod:`snndsl.lower.trainer`); and ``__all__`` (the networks, ``simulate`` and the training
    functions). ``program`` must have passed the checks: lowering assumes every name resolves and every
    unit is consistent. The text is compiled once before it is returned, so a lowering bug raises
    ``SyntaxError`` here rather than when the user runs it.
    """
    classes: list[E.Stmt] = []
    nets = []
    names = model_classes(program)
    emitted: set[str] = set()
    for net in program.networks:
        lowering = NetworkLowering(program, net, names)
        for ml in lowering.lowered.values():
            if ml.cls not in emitted:
                emitted.add(ml.cls)
                classes += [E.Blank(), E.Blank(), ml.build()]
        nets += [E.Blank(), E.Blank(), lowering.build()]
    exported = [E.py_name(n.name) for n in program.networks] + ["simulate"]
    if program.trains:
        from snndsl.lower.trainer import build
        defs = build(program, program.trains[0])
        nets += [E.Blank(), E.Blank()] + defs
        exported += [d.header.name for d in defs if isinstance(d, E.Block)]
    all_ = E.assign("__all__", ast.List([E.const(n) for n in exported], ast.Load()))
    used = E.names(classes + nets) | set(exported)
    helpers = needed(used)
    used |= {n for h in helpers for n in h.uses}
    head = [E.docstring(f"Generated by snndsl from {E.visible(source_name)}. Do not edit: edit the .snn file and "
                        "recompile."), E.Blank()]
    head += [E.import_(module, alias) for module, alias in prelude_definitions()[0] if (alias or module) in used]
    text = "\n".join(E.render(head)) + "".join(f"\n\n\n{h.text}" for h in helpers) + "\n" \
        + "\n".join(E.render(classes + nets)) + "\n\n\n" + "\n".join(E.render([all_])) + "\n"
    compile(text, E.visible(source_name), "exec")  # a lowering bug fails here, not in the user's hands
    return text
