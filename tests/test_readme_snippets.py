"""Every config snippet in the README loads and builds its model in its codebase's scope."""
import importlib
import re
import shutil
import subprocess
import sys
import textwrap

import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

from uniformer_mm import UniFormer2D, UniFormer3D

from helpers import ROOT

README = ROOT / 'README.md'
CLASSIFICATION_BASE = ROOT / 'configs/mmpretrain/uniformer-small_8xb128_in1k.py'
SNIPPETS = [block for block in re.findall(r'```python\n(.*?)```', README.read_text(), re.S)
            if 'custom_imports' in block]


def test_readme_has_a_snippet_per_codebase():
    scopes = sorted(re.search(r"_base_ = '(\w+)::", s).group(1) for s in SNIPPETS)
    assert scopes == ['mmaction', 'mmdet', 'mmpose', 'mmpretrain', 'mmseg']


@pytest.mark.slow
@pytest.mark.parametrize('snippet', SNIPPETS, ids=lambda s: re.search(r"_base_ = '(\w+)::", s).group(1))
def test_snippet_builds(tmp_path, snippet):
    scope = re.search(r"_base_ = '(\w+)::", snippet).group(1)
    (tmp_path / 'snippet.py').write_text(snippet)
    cfg = Config.fromfile(str(tmp_path / 'snippet.py'))
    registry = importlib.import_module(f'{scope}.registry').MODELS
    with DefaultScope.overwrite_default_scope(scope):
        model = registry.build(cfg.model)
    assert isinstance(model.backbone, UniFormer3D if scope == 'mmaction' else UniFormer2D)


@pytest.mark.slow
def test_fine_tune_config_reads_a_class_folder_dataset(tmp_path):
    """The config of "Fine-tune on your own classes", saved where it says, on a folder of two classes."""
    section = README.read_text().split('## Fine-tune on your own classes')[1].split('\n## ')[0]
    config = textwrap.dedent(re.search(r'```python\n(.*?)```', section, re.S).group(1))
    (tmp_path / 'configs' / 'mmpretrain').mkdir(parents=True)
    (tmp_path / 'configs' / 'mmpretrain' / 'my-classes.py').write_text(
        config.replace("'./uniformer-small_8xb128_in1k.py'", repr(str(CLASSIFICATION_BASE))))
    subprocess.run([sys.executable, str(ROOT / 'tools/dataset_converters/generate_toy_classes.py'), 'my_data',
                    '--train', '2', '--val', '1', '--size', '32'], cwd=tmp_path, check=True, capture_output=True)
    for split in ('train', 'val'):
        shutil.rmtree(tmp_path / 'my_data' / split / 'triangle')
    cfg = Config.fromfile(str(tmp_path / 'configs' / 'mmpretrain' / 'my-classes.py'))
    from mmpretrain.registry import DATASETS, MODELS
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(cfg.model)
        dataset_cfg = dict(cfg.train_dataloader.dataset, data_root=str(tmp_path / 'my_data'))
        dataset = DATASETS.build(dataset_cfg)
    assert model.head.fc.out_features == cfg.num_classes == len(dataset.metainfo['classes']) == 2
    assert dataset.metainfo['classes'] == ('disc', 'square') and len(dataset) == 4
    assert model.backbone.init_cfg['checkpoint'] == 'uniformer_small_in1k'
