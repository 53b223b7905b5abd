"""snndsl benchmarks (outside the test suite): see run.py and docs/performance.md."""
