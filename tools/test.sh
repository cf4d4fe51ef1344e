#!/usr/bin/env bash
# The README's test command: sets everything up if needed, lints (tools/lint.sh), then runs the fast unit tier
# (pytest -m "not slow") and the slow tier (pytest -m slow: mim train/test, distributed runs, demos), each on two
# pytest-xdist workers (one thread each: tests/conftest.py). The fast tier keeps a module's tests on one worker
# (`--dist loadscope`), so a module fixture such as a set of hostile files is built once; the slow tier runs the
# tests marked `long` first (tests/conftest.py) and lets an idle worker take over the other's remaining tests
# (`--dist worksteal`), so that both end on short tests. Extra arguments go to both pytest runs, e.g.
# `bash tools/test.sh -k checkpoint`; `-n 0` runs in one process. The slow tier lists its 25 slowest tests
# (docs/tests.md keeps the CI budget).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/tools/setup_env.sh"
cd "$ROOT"
bash tools/lint.sh
.venv/bin/python -m pytest tests -m "not slow" -n 2 --dist loadscope "$@"
# exit status 5: nothing selected (say, -k matching fast tests only), which is not a failure
.venv/bin/python -m pytest tests -m slow -n 2 --dist worksteal --durations=25 "$@" || [ $? -eq 5 ]
