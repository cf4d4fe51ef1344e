"""The dense-prediction model zoo: every config builds, follows its recipe, has the published size and FLOPs."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from uniformer_mm import UniFormer2D
from uniformer_mm.apis import build_model_from_config

ROOT = Path(__file__).resolve().parents[2]

# config -> (arch, attn_mode, drop_path_rate, with_cp, published parameters in millions)
ZOO = {
    'mmdet/mask-rcnn_uniformer-s-h14_fpn_1x_coco.py': ('small', 'hybrid', 0.2, (0, 0, 8, 0), 41),
    'mmdet/mask-rcnn_uniformer-s-h14_fpn_ms-crop-3x_coco.py': ('small', 'hybrid', 0.2, (0, 0, 8, 0), 41),
    'mmdet/mask-rcnn_uniformer-b-h14_fpn_1x_coco.py': ('base', 'hybrid', 0.3, (0, 0, 0, 0), 69),
    'mmdet/mask-rcnn_uniformer-b-h14_fpn_ms-crop-3x_coco.py': ('base', 'hybrid', 0.3, (0, 0, 20, 0), 69),
    'mmdet/cascade-mask-rcnn_uniformer-s-h14_fpn_4conv1fc-giou_ms-crop-3x_coco.py':
        ('small', 'hybrid', 0.2, (0, 0, 8, 0), 79),
    'mmdet/cascade-mask-rcnn_uniformer-b-h14_fpn_4conv1fc-giou_ms-crop-3x_coco.py':
        ('base', 'hybrid', 0.4, (0, 0, 20, 0), 107),
    'mmseg/upernet_uniformer-s-h14_8xb2-160k_ade20k-512x512.py': ('small', 'hybrid', 0.25, (0, 0, 0, 0), 52),
    'mmseg/upernet_uniformer-s_8xb2-160k_ade20k-512x512.py': ('small', 'global', 0.25, (0, 0, 0, 0), 52),
    'mmseg/upernet_uniformer-b-h14_8xb2-160k_ade20k-512x512.py': ('base', 'hybrid', 0.4, (0, 0, 0, 0), 80),
    'mmseg/fpn_uniformer-s-h14_8xb4-80k_ade20k-512x512.py': ('small', 'hybrid', 0.1, (0, 0, 0, 0), 25),
    'mmseg/fpn_uniformer-b-h14_8xb4-80k_ade20k-512x512.py': ('base', 'hybrid', 0.2, (0, 0, 0, 0), 54),
    # The pose release publishes no parameter count; 25M / 53M are backbone + deconvolution head.
    'mmpose/td-hm_uniformer-s_8xb128-210e_coco-256x192.py': ('small', 'global', 0.2, (0, 0, 0, 0), 25),
    'mmpose/td-hm_uniformer-b_8xb128-210e_coco-256x192.py': ('base', 'global', 0.4, (0, 0, 0, 0), 53),
    'mmpose/td-hm_uniformer-s_8xb128-210e_coco-384x288.py': ('small', 'global', 0.2, (0, 0, 0, 0), 25),
    'mmpose/td-hm_uniformer-b_8xb32-210e_coco-384x288.py': ('base', 'global', 0.5, (0, 0, 0, 0), 53),
    # The release's global models and its window-32 / hybrid-32 tests of them.
    'mmseg/upernet_uniformer-s-w32_8xb2-160k_ade20k-512x512.py': ('small', 'window', 0.25, (0, 0, 0, 0), 52),
    'mmseg/upernet_uniformer-s-h32_8xb2-160k_ade20k-512x512.py': ('small', 'hybrid', 0.25, (0, 0, 0, 0), 52),
    'mmseg/upernet_uniformer-b_8xb2-160k_ade20k-512x512.py': ('base', 'global', 0.4, (0, 0, 2, 0), 80),
    'mmseg/upernet_uniformer-b-w32_8xb2-160k_ade20k-512x512.py': ('base', 'window', 0.4, (0, 0, 0, 0), 80),
    'mmseg/upernet_uniformer-b-h32_8xb2-160k_ade20k-512x512.py': ('base', 'hybrid', 0.4, (0, 0, 0, 0), 80),
    'mmseg/fpn_uniformer-s_8xb4-80k_ade20k-512x512.py': ('small', 'global', 0.1, (0, 0, 0, 0), 25),
    'mmseg/fpn_uniformer-s-w32_8xb4-80k_ade20k-512x512.py': ('small', 'window', 0.1, (0, 0, 0, 0), 25),
    'mmseg/fpn_uniformer-s-h32_8xb4-80k_ade20k-512x512.py': ('small', 'hybrid', 0.1, (0, 0, 0, 0), 25),
    'mmseg/fpn_uniformer-b_8xb4-80k_ade20k-512x512.py': ('base', 'global', 0.2, (0, 0, 0, 0), 54),
    'mmseg/fpn_uniformer-b-w32_8xb4-80k_ade20k-512x512.py': ('base', 'window', 0.2, (0, 0, 0, 0), 54),
    'mmseg/fpn_uniformer-b-h32_8xb4-80k_ade20k-512x512.py': ('base', 'hybrid', 0.2, (0, 0, 0, 0), 54),
    'mmpose/td-hm_uniformer-s_8xb64-210e_coco-448x320.py': ('small', 'global', 0.2, (0, 0, 0, 0), 25),
    'mmpose/td-hm_uniformer-b_8xb32-210e_coco-448x320.py': ('base', 'global', 0.55, (0, 0, 0, 0), 53),
}
DEPTHS = {'small': (3, 4, 8, 3), 'base': (5, 8, 20, 7)}


@pytest.mark.slow
@pytest.mark.parametrize('config', sorted(ZOO))
def test_config_builds_the_published_model(config):
    arch, attn_mode, drop_path_rate, with_cp, published_millions = ZOO[config]
    cfg = Config.fromfile(str(ROOT / 'configs' / config))
    assert cfg.custom_imports.imports == ['uniformer_mm']
    model = build_model_from_config(cfg)
    backbone = model.backbone
    assert isinstance(backbone, UniFormer2D)
    assert backbone.arch['depths'] == DEPTHS[arch]
    window_size = 32 if '-w32' in config or '-h32' in config else 14
    assert (backbone.attn_mode, backbone.window_size) == (attn_mode, window_size)
    assert cfg.model.backbone.drop_path_rate == drop_path_rate
    assert backbone.checkpointed_blocks == with_cp
    assert backbone.init_cfg == dict(type='Pretrained', checkpoint=f'uniformer_{arch}_in1k')
    params = sum(p.numel() for p in model.parameters())
    assert round(params / 1e6) == published_millions, f'{params} parameters, published {published_millions}M'


@pytest.mark.parametrize('config', [c for c in ZOO if c.startswith('mmdet/')])
def test_detection_recipe(config):
    cfg = Config.fromfile(str(ROOT / 'configs' / config))
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.optimizer == dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05)
    assert cfg.optim_wrapper.paramwise_cfg == dict(custom_keys=dict(norm=dict(decay_mult=0.)))
    assert cfg.model.neck.in_channels == [64, 128, 320, 512]
    warmup, steps = cfg.param_scheduler
    assert (warmup.type, warmup.start_factor, warmup.end) == ('LinearLR', 0.001, 500)
    three_x = '3x' in config
    assert cfg.train_cfg.max_epochs == (36 if three_x else 12)
    assert steps.milestones == ([27, 33] if three_x else [8, 11])
    resizes = [t for t in cfg.train_pipeline if 'Resize' in t.type]
    assert [t.type for t in cfg.train_pipeline].count('RandomChoice') == (1 if three_x else 0)
    assert three_x or resizes[0].scale == (1333, 800)
    if 'cascade' in config:
        assert [head.loss_bbox.type for head in cfg.model.roi_head.bbox_head] == ['GIoULoss'] * 3
        assert 'mmpretrain' not in str(cfg.custom_imports)


def test_segmentation_recipes():
    upernet = Config.fromfile(str(ROOT / 'configs/mmseg/upernet_uniformer-s-h14_8xb2-160k_ade20k-512x512.py'))
    assert upernet.model.pretrained is None
    assert upernet.train_dataloader.batch_size == 2  # x 8 GPUs = 16 images per step
    assert upernet.optim_wrapper.optimizer == dict(type='AdamW', lr=6e-5, betas=(0.9, 0.999), weight_decay=0.01)
    assert upernet.optim_wrapper.paramwise_cfg.custom_keys.norm.decay_mult == 0
    warmup, poly = upernet.param_scheduler
    assert (warmup.start_factor, warmup.end, poly.type, poly.power, poly.eta_min) == (1e-6, 1500, 'PolyLR', 1.0, 0)
    assert upernet.train_cfg.max_iters == 160000
    aux = upernet.model.auxiliary_head
    assert (aux.type, aux.in_channels, aux.in_index, aux.loss_decode.loss_weight) == ('FCNHead', 320, 2, 0.4)
    assert upernet.train_pipeline[3].crop_size == (512, 512)

    fpn = Config.fromfile(str(ROOT / 'configs/mmseg/fpn_uniformer-s-h14_8xb4-80k_ade20k-512x512.py'))
    assert fpn.model.pretrained is None and fpn.train_dataloader.batch_size == 4
    assert fpn.optim_wrapper.optimizer == dict(type='AdamW', lr=2e-4, betas=(0.9, 0.999), weight_decay=1e-4)
    warmup, cosine = fpn.param_scheduler
    assert (warmup.start_factor, warmup.end, cosine.type, cosine.eta_min_ratio) == \
        (0.1, 1000, 'CosineAnnealingLR', 1e-8)
    assert fpn.train_cfg.max_iters == cosine.end == 80000


@pytest.mark.parametrize('config, input_size, sigma, lr', [
    ('td-hm_uniformer-s_8xb128-210e_coco-256x192.py', (192, 256), 2, 2e-3),
    ('td-hm_uniformer-b_8xb128-210e_coco-256x192.py', (192, 256), 2, 2e-3),
    ('td-hm_uniformer-s_8xb128-210e_coco-384x288.py', (288, 384), 3, 2e-3),
    ('td-hm_uniformer-b_8xb32-210e_coco-384x288.py', (288, 384), 3, 5e-4),
    ('td-hm_uniformer-s_8xb64-210e_coco-448x320.py', (320, 448), 3, 1e-3),
    ('td-hm_uniformer-b_8xb32-210e_coco-448x320.py', (320, 448), 3, 5e-4),
])
@pytest.mark.slow
def test_pose_recipe(config, input_size, sigma, lr):
    cfg = Config.fromfile(str(ROOT / 'configs/mmpose' / config))
    assert cfg.model.backbone.out_indices == (3, )
    assert (cfg.model.head.type, cfg.model.head.in_channels, cfg.model.head.out_channels) == ('HeatmapHead', 512, 17)
    head = build_model_from_config(cfg).head
    deconvs = [m for m in head.deconv_layers if isinstance(m, torch.nn.ConvTranspose2d)]
    assert [(m.out_channels, m.kernel_size, m.stride) for m in deconvs] == [(256, (4, 4), (2, 2))] * 3
    assert head.final_layer.kernel_size == (1, 1)
    assert (cfg.codec.input_size, cfg.codec.sigma) == (input_size, sigma)
    heatmap_size = (input_size[0] // 4, input_size[1] // 4)
    assert cfg.codec.heatmap_size == cfg.model.head.decoder.heatmap_size == heatmap_size
    affine = [t for t in cfg.train_dataloader.dataset.pipeline + cfg.test_dataloader.dataset.pipeline
              if t.type == 'TopdownAffine']
    assert [t.input_size for t in affine] == [input_size] * 2
    targets = [t for t in cfg.train_dataloader.dataset.pipeline if t.type == 'GenerateTarget']
    assert targets[0].encoder.sigma == sigma and targets[0].encoder.input_size == input_size
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.optimizer == dict(type='AdamW', lr=lr, betas=(0.9, 0.999), weight_decay=0.01)
    assert cfg.train_cfg.max_epochs == 210 and cfg.param_scheduler[1].milestones == [170, 200]
    assert cfg.train_dataloader.batch_size * 8 == cfg.auto_scale_lr.base_batch_size
    assert cfg.model.test_cfg.flip_test


# The light models: config -> (arch, drop_path_rate, the release's parameter count (its backbone built, the
# standard neck and heads added))
LIGHT = {
    'mmdet/mask-rcnn_uniformer-xxs_fpn_1x_coco.py': ('xxs', 0., 29_437_472),
    'mmdet/mask-rcnn_uniformer-xs_fpn_1x_coco.py': ('xs', 0.15, 35_634_160),
    'mmseg/fpn_uniformer-xxs_8xb4-80k_ade20k-512x512.py': ('xxs', 0., 13_536_710),
    'mmseg/fpn_uniformer-xs_8xb4-80k_ade20k-512x512.py': ('xs', 0.1, 19_733_398),
}


@pytest.mark.slow
@pytest.mark.parametrize('config', sorted(LIGHT))
def test_light_config_builds_the_release_model(config):
    arch, drop_path_rate, params = LIGHT[config]
    cfg = Config.fromfile(str(ROOT / 'configs' / config))
    model = build_model_from_config(cfg)
    backbone = model.backbone
    assert backbone.arch == UniFormer2D.arch_zoo[arch] and backbone.attn_mode == 'global'
    assert cfg.model.backbone.drop_path_rate == drop_path_rate and backbone.checkpointed_blocks == (0, 0, 0, 0)
    assert backbone.init_cfg == dict(type='Pretrained', checkpoint=f'uniformer_{arch}_224_in1k')
    assert cfg.model.neck.in_channels == list(backbone.embed_dims)
    # The release trained these in full precision.
    assert cfg.optim_wrapper.type == 'OptimWrapper'
    assert sum(p.numel() for p in model.parameters()) == params
