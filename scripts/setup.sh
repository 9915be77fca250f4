#!/usr/bin/env bash
# Idempotent set-up on a fresh Debian machine with Python 3.11:
#   .venv/ with the pinned requirements and lottery_tf (editable), then the
#   offline datasets (MNIST, Fashion-MNIST) in the data cache.
# A second run reinstalls nothing unless requirements.txt or pyproject.toml changed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
VENV="$ROOT/.venv"
STAMP="$VENV/.lottery_tf-installed"

if [[ ! -x "$VENV/bin/python" ]]; then
  echo "setup: creating $VENV" >&2
  "$PYTHON" -m venv "$VENV" || {
    echo "setup: error: '$PYTHON -m venv' failed; install python3-venv (apt-get install -y python3-venv)" >&2
    exit 1
  }
fi

wanted="$(cat requirements.txt pyproject.toml | sha256sum | cut -d' ' -f1)"
if [[ ! -f "$STAMP" || "$(cat "$STAMP")" != "$wanted" ]]; then
  echo "setup: installing requirements into $VENV (log: $VENV/pip.log)" >&2
  {
    "$VENV/bin/python" -m pip install --upgrade pip &&
    "$VENV/bin/python" -m pip install -r requirements.txt &&
    "$VENV/bin/python" -m pip install --no-deps -e .
  } > "$VENV/pip.log" 2>&1 || {
    tail -n 40 "$VENV/pip.log" >&2
    echo "setup: error: pip install failed (full log: $VENV/pip.log)" >&2
    exit 1
  }
  echo "$wanted" > "$STAMP"
else
  echo "setup: requirements already installed" >&2
fi

PYTHON="$VENV/bin/python" "$ROOT/scripts/get_data.sh"
