#!/usr/bin/env bash
# Set-up, then the main job: a short real IMP experiment on MNIST.
# LeNet-300-100, the paper's settings (Adam 1.2e-3, batch 60, 20% of each hidden
# layer and 10% of the output layer pruned per level, rewinding to init) with
# 3,000 iterations per level and 5 levels (100% -> 32.9% of weights), then the
# reinit control at the pruned levels and the table of ticket against control.
# Results land in runs/; rerunning resumes or reads them back.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/setup.sh"
cd "$ROOT"
export TF_CPP_MIN_LOG_LEVEL=3
ARGS=(--config=configs/lenet_mnist.py --config.training.train_steps=3000it
      --config.training.eval_every=200it --config.levels=5 --root="${ROOT_DIR:-runs}")
"$ROOT/.venv/bin/python" -m lottery_tf lottery "${ARGS[@]}" "$@"
"$ROOT/.venv/bin/python" -m lottery_tf branch reinit --levels=1-5 --quiet "${ARGS[@]}" "$@"
