"""The model zoo as the metafiles list it (``configs/*/metafile.yml``, imported by ``model-index.yml``)."""
from pathlib import Path
from typing import Dict, List, Union

import yaml

# The installed package's copy of the index, which `mim search` reads; in a clone, links to the repository's files.
PACKAGE_INDEX_ROOT = Path(__file__).resolve().parents[1] / '.mim'


def load_metafile_models(root: Union[str, Path] = PACKAGE_INDEX_ROOT) -> Dict[str, List[dict]]:
    """``{codebase: [metafile model, ...]}`` of the metafiles that ``model-index.yml`` imports, in file order.

    Args:
        root: The folder holding ``model-index.yml`` and the metafiles it names: the repository root, or (by
            default) the installed package's ``.mim`` folder.
    """
    root = Path(root)
    metafiles = yaml.safe_load((root / 'model-index.yml').read_text(encoding='utf-8'))['Import']
    return {Path(path).parent.name: yaml.safe_load((root / path).read_text(encoding='utf-8'))['Models']
            for path in metafiles}
