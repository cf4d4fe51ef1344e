"""UniFormer2D is visible from every codebase's scope and shadows nothing."""
import importlib

import pytest
from mmengine.config import Config
from mmengine.registry import MODELS as ROOT_MODELS
from mmengine.registry import DefaultScope

import uniformer_mm  # noqa: F401  (registers the backbones)

TINY = dict(depths=(1, 1, 2, 1), embed_dims=(16, 32, 64, 64), head_dim=16)
SCOPES = {'mmdet': 'mmdet.registry', 'mmseg': 'mmseg.registry', 'mmpose': 'mmpose.registry',
          'mmaction': 'mmaction.registry', 'mmpretrain': 'mmpretrain.registry'}


@pytest.mark.parametrize('scope', sorted(SCOPES))
def test_builds_under_each_default_scope(scope):
    registry = importlib.import_module(SCOPES[scope]).MODELS
    with DefaultScope.overwrite_default_scope(scope):
        backbone = registry.build(dict(type='UniFormer2D', arch=TINY))
    assert type(backbone) is uniformer_mm.UniFormer2D
    assert 'UniFormer2D' not in registry.module_dict, 'registered once, in the root registry'


def test_registered_in_root_only_under_its_own_name():
    assert ROOT_MODELS.get('UniFormer2D') is uniformer_mm.UniFormer2D
    assert 'UniFormer' not in ROOT_MODELS.module_dict and 'UniFormerV2' not in ROOT_MODELS.module_dict


def test_mmaction_keeps_its_own_uniformer():
    from mmaction.models.backbones import UniFormer, UniFormerV2
    from mmaction.registry import MODELS
    importlib.import_module('mmaction.models')
    assert MODELS.get('UniFormer') is UniFormer
    assert MODELS.get('UniFormerV2') is UniFormerV2


def test_custom_imports_in_a_config(tmp_path):
    config = tmp_path / 'backbone.py'
    config.write_text("custom_imports = dict(imports=['uniformer_mm'], allow_failed_imports=False)\n"
                      f"model = dict(type='UniFormer2D', arch={TINY!r}, attn_mode='hybrid')\n")
    cfg = Config.fromfile(str(config))
    from mmseg.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmseg'):
        assert type(MODELS.build(cfg.model)).__name__ == 'UniFormer2D'


def test_token_labeling_head_comes_with_the_heads_module_and_builds_under_mmpretrain(tmp_path):
    config = tmp_path / 'classifier.py'
    config.write_text(
        "custom_imports = dict(imports=['uniformer_mm', 'uniformer_mm.models.heads.classification'])\n"
        f"model = dict(type='ImageClassifier', backbone=dict(type='UniFormer2D', arch={TINY!r}, out_indices=(3, ), "
        "out_norm='batch'), head=dict(type='TokenLabelingClsHead', num_classes=10, in_channels=64))\n")
    cfg = Config.fromfile(str(config))
    from mmpretrain.registry import MODELS

    from uniformer_mm.models.heads.classification import TokenLabelingClsHead
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        classifier = MODELS.build(cfg.model)
    assert type(classifier.head) is TokenLabelingClsHead
    assert ROOT_MODELS.get('TokenLabelingClsHead') is TokenLabelingClsHead
    assert 'TokenLabelingClsHead' not in MODELS.module_dict
