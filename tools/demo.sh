#!/usr/bin/env bash
# The README's main command: sets everything up if needed, then trains a toy recipe end to end
# (default: top-down pose; 'seg' or 'det' for the others) and prints its metric before and after training.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/tools/setup_env.sh"
cd "$ROOT"
exec .venv/bin/python demo/toy_demo.py "$@"
