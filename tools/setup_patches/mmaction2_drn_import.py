"""Removes the import of the DRN localizer from the installed mmaction2 1.2.0.

Its wheel (and sdist) lacks ``mmaction/models/localizers/drn/``, yet ``localizers/__init__.py`` imports it, so
``import mmaction.models`` and every mmaction model build fail. DRN cannot work without its code: only that import
goes. Does nothing where the folder exists or the import is already gone.
"""
import importlib.util
import re
from pathlib import Path


def main() -> None:
    init = Path(importlib.util.find_spec('mmaction').origin).parent / 'models' / 'localizers' / '__init__.py'
    if (init.parent / 'drn').is_dir():
        return
    text = init.read_text()
    patched = re.sub(r",\s*'DRN'", '', text.replace('from .drn.drn import DRN\n', ''))
    if patched != text:
        init.write_text(patched)
        print('[setup] patched mmaction2: removed the import of the DRN localizer missing from its wheel')


if __name__ == '__main__':
    main()
