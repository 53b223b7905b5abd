"""The Brian2 conformance suite: paired .snn / Brian2 models, inputs, a numpy reference and the harness
(tests/test_conformance_brian2.py, docs/conformance.md)."""
