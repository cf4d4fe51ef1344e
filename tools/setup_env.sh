#!/usr/bin/env bash
# Sets up .venv/ at the repository root with the pinned OpenMMLab 2.0 stack and uniformer_mm (editable).
#
# Idempotent: every step checks what is already there, so a second run takes seconds. The one slow step,
# building mmcv 2.1.0 with its C++ ops, happens once per machine; the wheel is cached in
# $UNIFORMER_MM_CACHE (default ~/.cache/uniformer_mm) and reused by every later set-up, fresh clones included.
#
# Every upstream break this works around is listed in README.md ("How set-up deals with upstream breaks").
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
CACHE="${UNIFORMER_MM_CACHE:-$HOME/.cache/uniformer_mm}"

TORCH_VERSION=2.14.1
TORCHVISION_VERSION=0.29.1
MMCV_VERSION=2.1.0
# Bump when the installed set changes, so that existing venvs re-run the pip steps.
SETUP_REVISION=5

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

if [ ! -x "$PY" ]; then
    log "creating virtualenv $VENV"
    python3 -m venv "$VENV" || die "python3 -m venv failed (is python3-venv installed?)"
fi

stamp="$VENV/.uniformer_mm_setup_r$SETUP_REVISION"
if [ -f "$stamp" ] && "$PY" -c "import uniformer_mm, mmdet, mmseg, mmpose, mmaction.models, mmpretrain, mmcv.ops" \
        2>/dev/null; then
    exit 0
fi

# setuptools >= 81 dropped pkg_resources, which mmcv's setup.py, openmim and mmengine import;
# torch 2.14 wants >= 77.
log "installing torch $TORCH_VERSION, torchvision $TORCHVISION_VERSION and build tools"
pip_install 'setuptools>=77,<81' wheel ninja cython "torch==$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION"
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

log "installing mmengine, mmdet, mmsegmentation, mmaction2, mmpretrain, openmim, test and lint tools"
# mmseg imports ftfy and regex without declaring them; mmaction2 imports importlib_metadata likewise.
pip_install "$wheel_dir"/mmcv-*.whl mmengine==0.10.7 mmdet==3.3.0 mmsegmentation==1.2.2 ftfy regex \
    mmaction2==1.2.0 importlib_metadata mmpretrain==1.2.0 openmim==0.3.9 -r "$ROOT/requirements/tests.txt" 'setuptools>=77,<81'

# xtcocotools 1.14.3 (the newest) is numpy-1 only: its wheel was compiled against numpy 1 ("numpy.dtype size
# changed"), and its source uses np.NPY_OWNDATA, gone from numpy 2, so mask.iou/decode/area fail even when
# rebuilt. Build it from source with numpy 2's C-level flag and numpy 2's __array__(dtype, copy) signature.
if ! "$PY" -c "from xtcocotools import mask; mask.area(mask.frPyObjects([[0, 0, 3, 0, 3, 3, 0, 3]], 4, 4))" \
        2>/dev/null; then
    log "building xtcocotools 1.14.3 from source, patched for numpy 2"
    src_dir=$(mktemp -d)
    "$PY" -m pip download --quiet --no-deps --no-binary :all: --no-build-isolation \
        xtcocotools==1.14.3 -d "$src_dir" 2>/dev/null || die "could not download the xtcocotools 1.14.3 sdist"
    tar xzf "$src_dir/xtcocotools-1.14.3.tar.gz" -C "$src_dir"
    "$PY" - "$src_dir/xtcocotools-1.14.3/xtcocotools/_mask.pyx" <<'PATCH'
import pathlib, sys
path = pathlib.Path(sys.argv[1])
source = path.read_text()
patched = source.replace('np.NPY_OWNDATA', 'np.NPY_ARRAY_OWNDATA').replace(
    '    def __array__(self):\n', '    def __array__(self, dtype=None, copy=None):\n').replace(
    '        PyArray_ENABLEFLAGS(ndarray, np.NPY_ARRAY_OWNDATA)\n        return ndarray\n',
    '        PyArray_ENABLEFLAGS(ndarray, np.NPY_ARRAY_OWNDATA)\n'
    '        return ndarray if dtype is None else ndarray.astype(dtype)\n')
if patched.count('NPY_ARRAY_OWNDATA') != 4 or 'astype(dtype)' not in patched:
    sys.exit('xtcocotools/_mask.pyx is not the 1.14.3 source this patch expects')
path.write_text(patched)
PATCH
    pip_install --no-deps --no-build-isolation --force-reinstall "$src_dir/xtcocotools-1.14.3"
    rm -rf "$src_dir"
fi
# mmpose requires chumpy, which does not build and is never imported; its extras pin mmdet<3.3.0.
log "installing mmpose 1.3.2 without chumpy"
pip_install json_tricks munkres scipy matplotlib pillow opencv-python
pip_install --no-deps mmpose==1.3.2

# The mmaction2 1.2.0 wheel (and sdist) lacks mmaction/models/localizers/drn/, yet localizers/__init__.py imports it,
# so `import mmaction.models` fails. DRN cannot work without its code: drop only that import.
"$PY" - <<'EOF'
import importlib.util, pathlib, re
spec = importlib.util.find_spec('mmaction')
init = pathlib.Path(spec.origin).parent / 'models' / 'localizers' / '__init__.py'
if not (init.parent / 'drn').is_dir():
    text = init.read_text()
    patched = text.replace('from .drn.drn import DRN\n', '')
    patched = re.sub(r",\s*'DRN'", '', patched)
    if patched != text:
        init.write_text(patched)
        print('[setup] patched mmaction2: removed the import of the DRN localizer missing from its wheel')
EOF

# mmpose 1.3.2's keypoint drawing passes a one-element array as the circle radius and calls int() on it, which
# numpy 2 refuses ("only 0-dimensional arrays can be converted"): every pose visualisation (MMPoseInferencer's
# vis_out_dir, the demos) fails. Take the element instead.
"$PY" - <<'EOF'
import importlib.util, pathlib
spec = importlib.util.find_spec('mmpose')
path = pathlib.Path(spec.origin).parent / 'visualization' / 'opencv_backend_visualizer.py'
text = path.read_text()
if 'int(radius)' in text:
    path.write_text(text.replace('int(radius)', 'int(np.ravel(radius)[0])'))
    print('[setup] patched mmpose: keypoint circle radius under numpy 2')
EOF

log "installing the export and deployment tools (onnx, onnxruntime, openvino, mmdeploy) and moviepy"
pip_install -r "$ROOT/requirements/deployment.txt"

log "installing uniformer_mm (editable)"
pip_install --no-deps -e "$ROOT"

"$PY" -c "import uniformer_mm, uniformer_mm.models.heads.classification, mmdet, mmseg, mmpose, mmaction.models, mmpretrain, mmcv.ops
import uniformer_mm.deployment, onnxruntime, openvino, mmdeploy, moviepy
from xtcocotools import mask; mask.area(mask.frPyObjects([[0, 0, 3, 0, 3, 3, 0, 3]], 4, 4))" \
    || die "the stack does not work; see the errors above"
touch "$stamp"
log "done: $("$PY" -c 'import torch, mmcv, mmdet, mmseg, mmpose, mmaction, mmpretrain; print(f"torch {torch.__version__}, mmcv {mmcv.__version__}, mmdet {mmdet.__version__}, mmseg {mmseg.__version__}, mmpose {mmpose.__version__}, mmaction2 {mmaction.__version__}, mmpretrain {mmpretrain.__version__}")')"
