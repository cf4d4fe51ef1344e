"""The ImageNet-1K model zoo (mmpretrain): every config builds, follows its recipe and has the published size."""
import re

import pytest
from mmengine.config import Config

from uniformer_mm import UniFormer2D
from uniformer_mm.apis import build_model_from_config

from zoo import ROOT, converted_from, input_size, published_millions, zoo

CONFIG_DIR = ROOT / 'configs' / 'mmpretrain'
IMAGENET_MEAN = [123.675, 116.28, 103.53]

# The ImageNet zoo as the metafile lists it, by the release's recipe (the architecture's second name): config file
# name -> metafile entry. Each config's arch is that of the released checkpoint it is converted from.
CLASSIFIERS = zoo('mmpretrain')


def _family(name):
    return sorted(config for config, model in CLASSIFIERS.items() if model['Metadata']['Architecture'][1] == name)


STANDARD = _family('linear head')  # exp/uniformer_*/run.sh of the release: DeiT recipe, linear head
TOKEN_LABELING = _family('token labeling')  # token_labeling/exp/*_224/run.sh
FINE_TUNE_384 = _family('token labeling, 384 fine-tune')  # token_labeling/exp/*_384/run.sh, from the 224 model
ZOO = STANDARD + TOKEN_LABELING + FINE_TUNE_384
LIGHT = _family('light, two heads')  # exp_light/*/run.sh
HEAVY = ('base', 'large')  # 2-4 s to build each on 2 cores


def _params(config):
    """The config as a pytest parameter, slow where building the model is."""
    marks = [pytest.mark.slow] if any(f'uniformer-{size}' in config for size in HEAVY) else []
    return pytest.param(config, marks=marks, id=config)


def _load(config):
    return Config.fromfile(str(CONFIG_DIR / config))


@pytest.mark.slow
@pytest.mark.parametrize('config', sorted(ZOO))
def test_recipe(config):
    arch = converted_from(CLASSIFIERS[config]).arch
    cfg = _load(config)
    assert cfg.default_scope == 'mmpretrain'
    assert cfg.custom_imports.imports[:2] == ['uniformer_mm', 'uniformer_mm.models.heads.classification']
    backbone = cfg.model.backbone
    assert (backbone.type, backbone.arch) == ('UniFormer2D', arch)
    assert (backbone.out_indices, backbone.out_norm) == ((3, ), 'batch')
    assert cfg.model.type == 'ImageClassifier'

    optimizer = cfg.optim_wrapper.optimizer
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert (optimizer.type, optimizer.betas) == ('AdamW', (0.9, 0.999))
    paramwise = cfg.optim_wrapper.paramwise_cfg  # no weight decay on norms, biases and other 1-D parameters
    assert paramwise.norm_decay_mult == paramwise.bias_decay_mult == paramwise.flat_decay_mult == 0

    fine_tune = config in FINE_TUNE_384
    image_size, _ = input_size(CLASSIFIERS[config])
    test_pipeline = cfg.test_dataloader.dataset.pipeline
    assert cfg.val_dataloader.dataset.pipeline == test_pipeline
    (crop, ) = [t for t in test_pipeline if t.type == 'CenterCrop']
    (resize, ) = [t for t in test_pipeline if t.type == 'ResizeEdge']
    assert crop.crop_size == image_size
    assert (resize.edge, resize.interpolation) == ('short', 'bicubic')
    (train_crop, ) = [t for t in cfg.train_dataloader.dataset.pipeline if t.type == 'RandomResizedCrop']
    assert train_crop.scale == image_size

    batch_size = int(re.search(r'_8xb(\d+)_', config).group(1))
    assert cfg.train_dataloader.batch_size == batch_size
    assert cfg.auto_scale_lr.base_batch_size == 8 * batch_size

    if config in STANDARD:
        # Test: resize to 256, centre crop 224; ImageNet mean / std; mixup + cutmix, repeated augmentation.
        assert resize.scale == 256
        assert cfg.data_preprocessor.mean == IMAGENET_MEAN
        assert cfg.train_dataloader.sampler.type == 'RepeatAugSampler'
        assert [a.type for a in cfg.model.train_cfg.augments] == ['Mixup', 'CutMix']
        assert cfg.model.neck.type == 'GlobalAveragePooling'
        assert (cfg.model.head.type, cfg.model.head.in_channels) == ('LinearClsHead', 512)
        assert cfg.train_cfg.max_epochs == 300 and 'custom_hooks' not in cfg
    else:
        # timm's ViT normalisation (mean = std = 0.5), the token-labeling head on the stage-4 map, no mixup.
        assert cfg.data_preprocessor.mean == cfg.data_preprocessor.std == [127.5] * 3
        assert cfg.model.neck is None and cfg.model.train_cfg is None
        head = cfg.model.head
        assert (head.type, head.aux_weight) == ('TokenLabelingClsHead', 0.5)
        assert head.in_channels == (640 if arch == 'large_ls' else 512)
        assert cfg.train_dataloader.sampler.type == 'DefaultSampler'
        assert resize.scale == (426 if fine_tune else 248)  # image size / timm's crop_pct 0.9
    assert cfg.model.head.loss == dict(type='LabelSmoothLoss', label_smooth_val=0.1, mode='original')

    if fine_tune:
        assert optimizer.weight_decay == 1e-8
        assert cfg.train_cfg.max_epochs == 60 and cfg.custom_hooks == []
        (constant, ) = cfg.param_scheduler  # no warm-up
        assert (constant.type, constant.factor, constant.end) == ('ConstantLR', 1.0, 60)
    else:
        assert optimizer.weight_decay == 0.05
        # 5 linear warm-up epochs from 1e-6, then cosine to 1e-5
        if config in STANDARD:  # one scheduler, its warm-up a share of the schedule
            schedule = cfg.param_scheduler
            assert (schedule.type, schedule.by_epoch, schedule.convert_to_iter_based) == ('WarmupCosineLR', True, True)
            assert schedule.warmup_ratio * cfg.train_cfg.max_epochs == pytest.approx(5) and 'end' not in schedule
            assert schedule.start_factor * optimizer.lr == pytest.approx(1e-6) and schedule.eta_min == 1e-5
        else:
            warmup = cfg.param_scheduler[0]
            assert (warmup.type, warmup.by_epoch, warmup.end, warmup.convert_to_iter_based) == \
                ('LinearLR', True, 5, True)
            assert warmup.start_factor * optimizer.lr == pytest.approx(1e-6)
            cosine = cfg.param_scheduler[1]
            assert (cosine.type, cosine.eta_min, cosine.begin) == ('CosineAnnealingLR', 1e-5, 5)
        if config in TOKEN_LABELING:
            # 300 epochs + 10 cool-down epochs at the minimum lr, model and EMA evaluated
            assert cfg.train_cfg.max_epochs == 310 and (cosine.end, cosine.T_max) == (300, 295)
            (ema, ) = cfg.custom_hooks
            assert (ema.type, ema.momentum, ema.evaluate_on_ema, ema.evaluate_on_origin) == \
                ('EMAHook', 8e-5, True, True)


@pytest.mark.slow
@pytest.mark.parametrize('config', [_params(c) for c in sorted(ZOO)])
def test_config_builds_the_published_model(config):
    arch = converted_from(CLASSIFIERS[config]).arch
    published = published_millions(CLASSIFIERS[config])
    cfg = _load(config)
    model = build_model_from_config(cfg)
    assert type(model).__name__ == 'ImageClassifier'
    assert isinstance(model.backbone, UniFormer2D)
    assert model.backbone.arch == UniFormer2D.arch_zoo[arch]
    head = model.head
    assert head.num_classes == 1000
    params = sum(p.numel() for p in model.parameters())
    if config in STANDARD:
        assert type(head).__name__ == 'LinearClsHead'
        counts = {params}
    else:
        assert type(head).__name__ == 'TokenLabelingClsHead'
        # The token-labeling release's table gives sizes that match the model with (L-ls: 100.1M) or without
        # (S+: 24.0M, not 24.5M) its per-token classifier; the metafile holds the full count.
        counts = {params, params - sum(p.numel() for p in head.aux_fc.parameters())}
    assert published in {round(n / 1e6) for n in counts}, f'{params} parameters, published {published}M'


@pytest.mark.slow
@pytest.mark.parametrize('config', sorted(LIGHT))
def test_light_recipe_and_size(config):
    arch = converted_from(CLASSIFIERS[config]).arch
    image_size, _ = input_size(CLASSIFIERS[config])
    cfg = _load(config)
    backbone = cfg.model.backbone
    assert (backbone.arch, backbone.with_cls_token) == (arch, True)
    head = cfg.model.head
    assert cfg.model.neck is None and (head.type, head.get('cls_weight', 0.5)) == ('UniFormerLightClsHead', 0.5)
    # Full precision, AdamW scaled to 4096 images, no decay on 1-D parameters and the class token.
    assert cfg.optim_wrapper.type == 'OptimWrapper'
    lr = cfg.optim_wrapper.optimizer.lr
    assert cfg.optim_wrapper.paramwise_cfg.custom_keys['cls_token'] == dict(decay_mult=0.)
    assert cfg.train_dataloader.batch_size == 512 and cfg.auto_scale_lr.base_batch_size == 4096
    assert cfg.train_dataloader.sampler.type == 'DefaultSampler'
    warmup, cosine = cfg.param_scheduler
    assert (warmup.end, cosine.begin, cosine.eta_min, cfg.train_cfg.max_epochs) == (30, 30, 1e-5, 600)
    assert warmup.start_factor * lr == pytest.approx(1e-6)
    (ema, ) = cfg.custom_hooks
    assert (ema.momentum, ema.evaluate_on_ema, ema.evaluate_on_origin) == (1e-4, True, True)
    augment = 'AutoAugment' if arch == 'xxs' else 'RandAugment'
    assert [t.type for t in cfg.train_dataloader.dataset.pipeline].count(augment) == 1
    (train_crop, ) = [t for t in cfg.train_dataloader.dataset.pipeline if t.type == 'RandomResizedCrop']
    (resize, ) = [t for t in cfg.test_dataloader.dataset.pipeline if t.type == 'ResizeEdge']
    (crop, ) = [t for t in cfg.test_dataloader.dataset.pipeline if t.type == 'CenterCrop']
    assert (train_crop.scale, resize.scale, crop.crop_size) == (image_size, int(256 / 224 * image_size), image_size)
    model = build_model_from_config(cfg)
    assert sum(p.numel() for p in model.parameters()) == CLASSIFIERS[config]['Metadata']['Parameters']
