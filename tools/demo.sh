#!/usr/bin/env bash
# The README's main command: sets everything up if needed, then runs the default job.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/tools/setup_env.sh"
cd "$ROOT"
exec .venv/bin/python tools/demo_maskrcnn.py "$@"
