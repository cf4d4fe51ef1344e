"""Every config snippet in the README loads and builds its model in its codebase's scope."""
import importlib
import re
from pathlib import Path

import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

from uniformer_mm import UniFormer2D, UniFormer3D

README = Path(__file__).resolve().parents[1] / 'README.md'
SNIPPETS = [block for block in re.findall(r'```python\n(.*?)```', README.read_text(), re.S)
            if 'custom_imports' in block]


def test_readme_has_a_snippet_per_codebase():
    scopes = sorted(re.search(r"_base_ = '(\w+)::", s).group(1) for s in SNIPPETS)
    assert scopes == ['mmaction', 'mmdet', 'mmpose', 'mmseg']


@pytest.mark.parametrize('snippet', SNIPPETS, ids=lambda s: re.search(r"_base_ = '(\w+)::", s).group(1))
def test_snippet_builds(tmp_path, snippet):
    scope = re.search(r"_base_ = '(\w+)::", snippet).group(1)
    (tmp_path / 'snippet.py').write_text(snippet)
    cfg = Config.fromfile(str(tmp_path / 'snippet.py'))
    registry = importlib.import_module(f'{scope}.registry').MODELS
    with DefaultScope.overwrite_default_scope(scope):
        model = registry.build(cfg.model)
    assert isinstance(model.backbone, UniFormer3D if scope == 'mmaction' else UniFormer2D)
