"""The dense-prediction model zoo: every config builds, follows its recipe and has the published size (FLOPs:
tests/test_flop_counting.py)."""
import pytest
import torch
from mmengine.config import Config

from uniformer_mm import UniFormer2D
from uniformer_mm.apis import build_model_from_config

from zoo import MODELS, ROOT, backbone

# The dense-prediction zoo as the metafiles list it: config path -> metafile entry.
DENSE = {config: model for codebase in ('mmdet', 'mmseg', 'mmpose') for config, model in MODELS.items()
         if config.startswith(f'configs/{codebase}/')}
LIGHT = sorted(config for config, model in DENSE.items() if backbone(model)[0] in ('xxs', 'xs'))


def assert_published_size(model, params):
    """The parameter count rounds to the release's, where the release published one (its pose table did not)."""
    published = model['Metadata'].get('Published Parameters')
    if published:
        decimals = len(published.rstrip('M').partition('.')[2])
        assert f'{params / 1e6:.{decimals}f}M' == published, f'{params} parameters, published {published}'


@pytest.mark.slow
@pytest.mark.parametrize('config', sorted(set(DENSE) - set(LIGHT)))
def test_config_builds_the_published_model(config):
    arch, attn_mode, window_size = backbone(DENSE[config])
    cfg = Config.fromfile(str(ROOT / config))
    assert cfg.custom_imports.imports == ['uniformer_mm']
    model = build_model_from_config(cfg)
    assert isinstance(model.backbone, UniFormer2D) and model.backbone.arch == UniFormer2D.arch_zoo[arch]
    assert (model.backbone.attn_mode, model.backbone.window_size) == (attn_mode, window_size)
    assert_published_size(DENSE[config], sum(p.numel() for p in model.parameters()))


@pytest.mark.parametrize('config', sorted(c for c in set(DENSE) - set(LIGHT) if c.startswith('configs/mmdet/')))
def test_detection_recipe(config):
    cfg = Config.fromfile(str(ROOT / config))
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


@pytest.mark.slow
@pytest.mark.parametrize('config', LIGHT)
def test_light_config_builds_the_release_model(config):
    arch, _, _ = backbone(DENSE[config])
    cfg = Config.fromfile(str(ROOT / config))
    model = build_model_from_config(cfg)
    assert model.backbone.arch == UniFormer2D.arch_zoo[arch] and model.backbone.attn_mode == 'global'
    assert model.backbone.checkpointed_blocks == (0, 0, 0, 0)
    assert cfg.model.neck.in_channels == list(model.backbone.embed_dims)
    # The release trained these in full precision.
    assert cfg.optim_wrapper.type == 'OptimWrapper'
    assert_published_size(DENSE[config], sum(p.numel() for p in model.parameters()))
