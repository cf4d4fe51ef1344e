#!/usr/bin/env bash
# Lint as CI does, before the tests: flake8 and isort, configured in setup.cfg (line length 120).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-.venv/bin/python}"
PATHS=(uniformer_mm tools tests demo configs .dev_scripts setup.py)
"$PY" -m flake8 "${PATHS[@]}"
"$PY" -m isort --check-only --diff --quiet "${PATHS[@]}"
