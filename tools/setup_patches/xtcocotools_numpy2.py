"""Patches the unpacked xtcocotools 1.14.3 sdist for numpy 2 before tools/setup_env.sh builds it.

The 1.14.3 wheel (the newest) was compiled against numpy 1 ("numpy.dtype size changed" under numpy 2), and rebuilt
from source its mask API still fails: ``np.NPY_OWNDATA`` is gone from numpy 2 (its C-level name is
``NPY_ARRAY_OWNDATA``), and numpy 2 calls ``__array__(dtype, copy)``.

Usage: python xtcocotools_numpy2.py SDIST_DIR/xtcocotools/_mask.pyx
"""
import sys
from pathlib import Path


def main(path: Path) -> None:
    source = path.read_text()
    patched = source.replace('np.NPY_OWNDATA', 'np.NPY_ARRAY_OWNDATA').replace(
        '    def __array__(self):\n', '    def __array__(self, dtype=None, copy=None):\n').replace(
            '        PyArray_ENABLEFLAGS(ndarray, np.NPY_ARRAY_OWNDATA)\n        return ndarray\n',
            '        PyArray_ENABLEFLAGS(ndarray, np.NPY_ARRAY_OWNDATA)\n'
            '        return ndarray if dtype is None else ndarray.astype(dtype)\n')
    if patched.count('NPY_ARRAY_OWNDATA') != 4 or 'astype(dtype)' not in patched:
        sys.exit(f'{path} is not the xtcocotools 1.14.3 source this patch expects')
    path.write_text(patched)


if __name__ == '__main__':
    main(Path(sys.argv[1]))
