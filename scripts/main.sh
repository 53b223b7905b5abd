#!/usr/bin/env bash
# Set up .venv (scripts/setup.sh) and run the main job.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash scripts/setup.sh

# For now the main job checks the seed model; it will become the training run later.
exec .venv/bin/snndsl check models/seed.snn
