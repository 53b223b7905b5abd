"""NIR interop: ``snndsl export --to nir`` and ``snndsl import`` (docs/nir.md).

Importing this package loads nothing; the modules, each with one job:

* :mod:`~snndsl.nir.recognise` — which NIR primitive a model is, which standard model a NIR node is (shared);
* :mod:`~snndsl.nir.units`, :mod:`~snndsl.nir.errors` — the coherent unit system, the two failures (shared);
* :mod:`~snndsl.nir.export` — a compiled network → ``nir.NIRGraph``, one function per node kind;
* :mod:`~snndsl.nir.importer` — ``nir.NIRGraph`` → ``.snn`` text and arrays, built from
  :mod:`~snndsl.nir.graph` (flattening, sizes, projections, cycles), :mod:`~snndsl.nir.models` (nodes →
  models and populations), :mod:`~snndsl.nir.connect` (projections → ``connect``), :mod:`~snndsl.nir.names`,
  and printed through :mod:`~snndsl.nir.astbuild` and :mod:`~snndsl.nir.layout` (syntax trees → canonical text);
* :mod:`~snndsl.nir.params` — the ``.params.npz`` file of an import, and applying it to a network.

Export and import share the recogniser and never import each other.
"""
