"""The README's quick start runs as one script; the config snippets of docs/backbones.md ("Using the backbone in a
config") and docs/finetune.md build their models and read their data in their codebases' scope."""
import importlib
import re
import shutil
import subprocess
import sys
import textwrap

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from uniformer_mm import UniFormer2D, UniFormer3D
from uniformer_mm.apis import build_model_from_config

from helpers import ROOT

README = ROOT / 'README.md'
BACKBONES = ROOT / 'docs/backbones.md'
FINETUNE = ROOT / 'docs/finetune.md'
CLASSIFICATION_BASE = ROOT / 'configs/mmpretrain/uniformer-small_8xb128_in1k.py'
SNIPPETS = [block for block in re.findall(r'```python\n(.*?)```', BACKBONES.read_text(), re.S)
            if 'custom_imports' in block]


def test_backbones_doc_has_a_snippet_per_codebase():
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
    section = FINETUNE.read_text().split('## Fine-tune on your own classes')[1].split('\n## ')[0]
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


@pytest.mark.slow
def test_quick_start_inference_runs_as_one_script(tmp_path):
    """The quick start's inferencer block, pasted as it is into one script, with checkpoints where it says."""
    section = README.read_text().split('## Quick start: inference')[1].split('\n## ')[0]
    script = re.search(r'```python\n(.*?)```', section, re.S).group(1)
    (tmp_path / 'configs').symlink_to(ROOT / 'configs')
    pairs = re.findall(r"='(configs/[^']+\.py)',\s+\w+='(work_dirs/[^']+\.pth)'", script)
    assert len(pairs) == 5, pairs
    for config, weights in pairs:
        model = build_model_from_config(Config.fromfile(str(ROOT / config)))
        (tmp_path / weights).parent.mkdir(parents=True, exist_ok=True)
        torch.save({'state_dict': model.state_dict()}, tmp_path / weights)
    image = np.random.default_rng(0).integers(0, 255, (96, 128, 3), dtype=np.uint8)
    cv2.imwrite(str(tmp_path / 'photo.jpg'), image)
    video = cv2.VideoWriter(str(tmp_path / 'clip.mp4'), cv2.VideoWriter_fourcc(*'mp4v'), 8, (64, 64))
    for index in range(16):
        video.write(np.roll(image[:64, :64], 4 * index, axis=1))
    video.release()
    (tmp_path / 'label_map.txt').write_text('left_to_right\nright_to_left\n')
    result = subprocess.run([sys.executable, '-c', script], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    written = {path.suffix for path in (tmp_path / 'outputs').rglob('*') if path.is_file()}
    assert {'.jpg', '.png', '.mp4'} <= written, written
