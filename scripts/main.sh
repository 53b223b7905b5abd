#!/usr/bin/env bash
# Set up .venv (scripts/setup.sh) and run the main job.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash scripts/setup.sh

# The main job: train the seed tutorial's network (models/seed.snn) as its train block says.
# Results (metrics.jsonl, params checkpoint, loss/accuracy plots) go to runs/seed/.
exec .venv/bin/snndsl train models/seed.snn --out runs/seed "$@"
