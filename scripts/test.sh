#!/usr/bin/env bash
# Set-up, then the test suite. Extra arguments go to pytest, e.g.
#   ./scripts/test.sh -m slow          only the slow end-to-end runs on real data
#   ./scripts/test.sh tests/pruning    one folder
# By default the slow tests are skipped; `-m "slow or not slow"` runs everything.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/setup.sh"
cd "$ROOT"
export TF_CPP_MIN_LOG_LEVEL=3
if [[ $# -eq 0 ]]; then
  "$ROOT/.venv/bin/ruff" check --quiet lottery_tf tests configs examples
  # One worker process per core: most tests train single-threaded, so two halve the wall time.
  set -- -m "not slow" --durations=12 -n "${LOTTERY_TF_TEST_WORKERS:-$(nproc)}"
fi
exec "$ROOT/.venv/bin/python" -m pytest -q -rfE "$@"
