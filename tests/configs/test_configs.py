"""The shipped configs load and build their models; the demo runs end to end."""
import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

from uniformer_mm import UniFormer2D

from helpers import PYTHON, ROOT, run


def build_detector(config: str):
    from mmdet.registry import MODELS
    cfg = Config.fromfile(str(ROOT / config))
    with DefaultScope.overwrite_default_scope('mmdet'):
        return cfg, MODELS.build(cfg.model)


@pytest.mark.parametrize('config', ['configs/uniformer_maskrcnn.py',
                                    'configs/mmdet/mask-rcnn_uniformer-s-h14_fpn_1x_coco.py'])
@pytest.mark.slow
def test_maskrcnn_config_builds_the_reference_recipe(config):
    cfg, model = build_detector(config)
    backbone = model.backbone
    assert isinstance(backbone, UniFormer2D)
    assert (backbone.arch['depths'], backbone.attn_mode, backbone.window_size) == ((3, 4, 8, 3), 'hybrid', 14)
    assert backbone.checkpointed_blocks == (0, 0, 8, 0)
    assert backbone.init_cfg == dict(type='Pretrained', checkpoint='uniformer_small_in1k')
    assert cfg.optim_wrapper.optimizer.type == 'AdamW' and cfg.optim_wrapper.optimizer.lr == 1e-4
    assert cfg.optim_wrapper.paramwise_cfg.custom_keys.norm.decay_mult == 0
    params = sum(p.numel() for p in model.parameters())
    assert round(params / 1e6) == 41, f'{params} parameters; the published Mask R-CNN S-h14 has 41M'


@pytest.mark.slow
def test_demo_prints_detections_and_time():
    output = run([PYTHON, 'demo/demo_maskrcnn.py', '--size', '256', '320', '--topk', '3'], timeout=600)
    assert 'UniFormer2D' in output and 'detections' in output
    assert 'inference time on cpu' in output
