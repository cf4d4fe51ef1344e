#!/usr/bin/env bash
# Sets up .venv/ at the repository root with the pinned OpenMMLab 2.0 stack and uniformer_mm (editable).
#
# Idempotent: every step checks what is already there, so a second run takes seconds. The one slow step,
# building mmcv 2.1.0 with its C++ ops, happens once per machine; the wheel is cached in
# $UNIFORMER_MM_CACHE (default ~/.cache/uniformer_mm) and reused by every later set-up, fresh clones included.
#
# Every version comes from requirements/ (build.txt, codebases.txt, deployment.txt, analysis.txt, tests.txt), the one
# pin list.
# Every upstream break this works around is listed in docs/setup.md ("How set-up deals with upstream breaks"); the
# patches of installed packages are the scripts in tools/setup_patches/, one per break.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
CACHE="${UNIFORMER_MM_CACHE:-$HOME/.cache/uniformer_mm}"
REQUIREMENTS="$ROOT/requirements"
PATCHES="$ROOT/tools/setup_patches"
# Bump when the installed set changes, so that existing venvs re-run the pip steps.
SETUP_REVISION=8

log() { printf '[setup] %s\n' "$*" >&2; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }
# Runs pip quietly; on failure stops with pip's own message. Drops the noise of this machine's extra local
# indexes and the conflict notice for chumpy, which mmpose declares but never imports (see below).
pip_install() {
    local output status=0
    output=$("$PY" -m pip install --quiet --disable-pip-version-check "$@" 2>&1) || status=$?
    output=$(printf '%s\n' "$output" | grep -v -e "^WARNING: Location" -e "requires chumpy" \
        -e "dependency resolver does not currently" -e '^$' || true)
    [ -z "$output" ] || printf '%s\n' "$output" >&2
    [ "$status" -eq 0 ] || die "pip install $* failed (exit $status)"
}
# The version a requirements file pins for a package (`name==version`).
pinned() {
    local version
    version=$(sed -n "s/^$1==\([^ #]*\).*/\1/p" "$REQUIREMENTS/$2" | head -n 1)
    [ -n "$version" ] || die "requirements/$2 pins no version of $1"
    printf '%s' "$version"
}
TORCH_VERSION=$(pinned torch build.txt)
MMCV_VERSION=$(pinned mmcv codebases.txt)
XTCOCOTOOLS_VERSION=$(pinned xtcocotools codebases.txt)
MMPOSE_VERSION=$(pinned mmpose codebases.txt)

if [ ! -x "$PY" ]; then
    log "creating virtualenv $VENV"
    python3 -m venv "$VENV" || die "python3 -m venv failed (is python3-venv installed?)"
fi

stamp="$VENV/.uniformer_mm_setup_r$SETUP_REVISION"
if [ -f "$stamp" ] && "$PY" -c "import uniformer_mm, mmdet, mmseg, mmpose, mmaction.models, mmpretrain, mmcv.ops" \
        2>/dev/null; then
    exit 0
fi

log "installing torch $TORCH_VERSION, torchvision and build tools (requirements/build.txt)"
pip_install -r "$REQUIREMENTS/build.txt"
"$PY" -c "import torch, torchvision" || die "torch/torchvision do not import; see the pip output above"

# mmcv: PyPI has only the sdist. Build it once with the C++ ops (RoIAlign, NMS: Mask R-CNN needs them) and cache it.
py_tag=$("$PY" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
wheel_dir="$CACHE/mmcv-${MMCV_VERSION}_torch-${TORCH_VERSION}_${py_tag}_$(uname -m)"
if ! "$PY" -c "import mmcv, mmcv.ops; assert mmcv.__version__ == '$MMCV_VERSION'" 2>/dev/null; then
    if ! ls "$wheel_dir"/mmcv-*.whl >/dev/null 2>&1; then
        log "building mmcv $MMCV_VERSION with ops (once per machine, about 20 minutes on 2 cores)"
        mkdir -p "$CACHE"
        build_dir=$(mktemp -d "$CACHE/mmcv-build.XXXXXX")
        build_log="$CACHE/mmcv-build.log"
        (
            cd "$build_dir"
            "$PY" -m pip download --quiet --no-deps --no-binary :all: --no-build-isolation \
                "mmcv==$MMCV_VERSION" -d . >"$build_log" 2>&1 \
                || { echo "could not download the mmcv $MMCV_VERSION sdist"; exit 1; }
            tar xzf "mmcv-$MMCV_VERSION.tar.gz"
            cd "mmcv-$MMCV_VERSION"
            # torch >= 2.10 headers require C++20; mmcv 2.1.0 hard-codes -std=c++17.
            sed -i 's/-std=c++17/-std=c++20/g' setup.py
            # Unset FORCE_CUDA: a CPU machine builds the CPU ops only.
            env -u FORCE_CUDA MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-2}" \
                "$PY" -m pip wheel --no-deps --no-build-isolation . -w "$build_dir/out" >>"$build_log" 2>&1 \
                || { echo "compilation failed; first errors:"; grep -m 5 -E "error:|Error" "$build_log"; exit 1; }
        ) || { rm -rf "$build_dir"; die "mmcv build failed (full log: $build_log)"; }
        mkdir -p "$wheel_dir"
        mv "$build_dir"/out/mmcv-*.whl "$wheel_dir"/
        rm -rf "$build_dir"
    fi
    log "installing the cached mmcv wheel from $wheel_dir"
    pip_install --no-deps "$wheel_dir"/mmcv-*.whl
fi

log "installing the OpenMMLab stack (requirements/codebases.txt), test and lint tools"
# All of codebases.txt but mmpose (installed without its dependencies below) and xtcocotools (built below); the
# cached mmcv wheel satisfies its pin; build.txt again so that nothing moves setuptools or torch.
codebases=$(grep -v -E '^(mmpose|xtcocotools)==' "$REQUIREMENTS/codebases.txt")
pip_install "$wheel_dir"/mmcv-*.whl -r /dev/stdin -r "$REQUIREMENTS/tests.txt" -r "$REQUIREMENTS/build.txt" \
    <<<"$codebases"

# xtcocotools: the newest wheel is numpy-1 only; build it from source, patched for numpy 2.
if ! "$PY" -c "from xtcocotools import mask; mask.area(mask.frPyObjects([[0, 0, 3, 0, 3, 3, 0, 3]], 4, 4))" \
        2>/dev/null; then
    log "building xtcocotools $XTCOCOTOOLS_VERSION from source, patched for numpy 2"
    src_dir=$(mktemp -d)
    "$PY" -m pip download --quiet --no-deps --no-binary :all: --no-build-isolation \
        "xtcocotools==$XTCOCOTOOLS_VERSION" -d "$src_dir" 2>/dev/null \
        || die "could not download the xtcocotools $XTCOCOTOOLS_VERSION sdist"
    tar xzf "$src_dir/xtcocotools-$XTCOCOTOOLS_VERSION.tar.gz" -C "$src_dir"
    "$PY" "$PATCHES/xtcocotools_numpy2.py" "$src_dir/xtcocotools-$XTCOCOTOOLS_VERSION/xtcocotools/_mask.pyx" \
        || die "could not patch xtcocotools"
    pip_install --no-deps --no-build-isolation --force-reinstall "$src_dir/xtcocotools-$XTCOCOTOOLS_VERSION"
    rm -rf "$src_dir"
fi
log "installing mmpose $MMPOSE_VERSION without chumpy"
pip_install --no-deps "mmpose==$MMPOSE_VERSION"

"$PY" "$PATCHES/mmaction2_drn_import.py" || die "could not patch mmaction2"
"$PY" "$PATCHES/mmpose_keypoint_radius.py" || die "could not patch mmpose"

log "installing the export and deployment tools (onnx, onnxruntime, openvino, mmdeploy) and moviepy"
pip_install -r "$REQUIREMENTS/deployment.txt"
log "installing the analysis tools (requirements/analysis.txt: grad-cam for Grad-CAM pictures)"
pip_install -r "$REQUIREMENTS/analysis.txt"

log "installing uniformer_mm (editable)"
pip_install --no-deps -e "$ROOT"

"$PY" -c "import uniformer_mm, uniformer_mm.models.heads.classification, mmdet, mmseg, mmpose, mmaction.models, mmpretrain, mmcv.ops
import uniformer_mm.deployment, onnxruntime, openvino, mmdeploy, moviepy
from xtcocotools import mask; mask.area(mask.frPyObjects([[0, 0, 3, 0, 3, 3, 0, 3]], 4, 4))" \
    || die "the stack does not work; see the errors above"
touch "$stamp"
log "done: $("$PY" -c 'import torch, mmcv, mmdet, mmseg, mmpose, mmaction, mmpretrain; print(f"torch {torch.__version__}, mmcv {mmcv.__version__}, mmdet {mmdet.__version__}, mmseg {mmseg.__version__}, mmpose {mmpose.__version__}, mmaction2 {mmaction.__version__}, mmpretrain {mmpretrain.__version__}")')"
