#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: install JAX's CUDA build, then run the test suite, the seed training and
# the SHD-size benchmark on the GPU, printing step times. Results go to runs/gpu_check/.
#
#     bash benchmarks/gpu_check.sh
#
# Needs network access to PyPI for jax[cuda12] (or a pre-installed CUDA jaxlib in .venv).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
out=runs/gpu_check
mkdir -p "$out"

bash scripts/setup.sh
.venv/bin/pip install -q -e '.[cuda]'
export JAX_PLATFORMS=cuda,cpu          # tests default to CPU unless told otherwise (tests/conftest.py)

echo "== devices"
.venv/bin/python -c "import jax; print(jax.devices())" | tee "$out/devices.txt"
if ! .venv/bin/python -c "import jax, sys; sys.exit(0 if jax.devices('gpu') else 1)" 2>/dev/null; then
    echo "no GPU visible to JAX; stopping" >&2
    exit 1
fi

echo "== test suite (GPU tests included)"
.venv/bin/python -m pytest -q -p no:cacheprovider 2>&1 | tee "$out/tests.txt"

echo "== seed training on the GPU"
.venv/bin/snndsl --platform gpu train models/seed.snn --out "$out/seed" --no-progress | tee "$out/seed.txt"
.venv/bin/python - "$out/seed/metrics.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
steady = [r["seconds"] for r in rows[1:]]
print(f"seed: first epoch (compile) {rows[0]['seconds']:.2f} s, median epoch {statistics.median(steady) * 1e3:.1f} ms")
PY

echo "== SHD-size benchmark"
.venv/bin/python benchmarks/run.py --only shd --json "$out/shd.json" 2>&1 | tee "$out/shd.txt"
