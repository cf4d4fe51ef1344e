"""The mmaction2 recipes load, build, and carry the reference settings."""
import re
from pathlib import Path

import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

from uniformer_mm import UniFormer3D

from zoo import backbone, input_size, zoo

CONFIG_DIR = Path(__file__).resolve().parents[2] / 'configs' / 'mmaction'
CONFIGS = sorted(p.name for p in CONFIG_DIR.glob('uniformer3d-*.py') if not p.name.startswith('uniformer3d-x'))
# The light models as the metafile lists them: config file name -> metafile entry.
LIGHT = {config: model for config, model in zoo('mmaction').items()
         if model['Metadata']['Architecture'][1].endswith(', light')}


def sampler(pipeline):
    return next(t for t in pipeline if t['type'] in ('SampleFrames', 'UniformSample'))


def test_the_issue_recipes_are_all_there():
    expected = {f'uniformer3d-{s}_in1k-pre_8xb8-{c}x1-200e_kinetics400-rgb.py'
                for s in 'sb' for c in ('8x8', '16x4', '32x4')}
    expected |= {f'uniformer3d-{s}_in1k-pre_8xb8-16x4x1-200e_kinetics600-rgb.py' for s in 'sb'}
    expected |= {'uniformer3d-s_k400-pre_8xb8-u16-200e_sthv2-rgb.py',
                 'uniformer3d-b_k400-pre_8xb8-u32-200e_sthv2-rgb.py'}
    # the rest of the reference release's rows
    expected |= {f'uniformer3d-{s}_in1k-pre_8xb8-16x8x1-200e_kinetics{k}-rgb.py' for s in 'sb' for k in (400, 600)}
    expected |= {'uniformer3d-b_in1k-pre_8xb8-32x4x1-200e_kinetics600-rgb.py'}
    expected |= {f'uniformer3d-{s}_k{k}-pre_8xb8-u{f}-200e_sthv{v}-rgb.py'
                 for s in 'sb' for k in (400, 600) for f in (16, 32) for v in (1, 2)}
    expected |= {f'uniformer3d-s_k400-pre_8xb16-16x4x1-25e_{d}-split1-rgb.py' for d in ('ucf101', 'hmdb51')}
    assert set(CONFIGS) == expected


@pytest.mark.slow
@pytest.mark.parametrize('name', CONFIGS)
def test_config_builds_with_reference_settings(name):
    cfg = Config.fromfile(str(CONFIG_DIR / name))
    from mmaction.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmaction'):
        model = MODELS.build(cfg.model)
    backbone = model.backbone
    assert isinstance(backbone, UniFormer3D) and type(model).__name__ == 'HeadClassesRecognizer3D'
    assert type(model.cls_head).__name__ == 'I3DHead'
    small = name.startswith('uniformer3d-s')
    assert backbone.depths == ((3, 4, 8, 3) if small else (5, 8, 20, 7))
    assert cfg.model.backbone.drop_path_rate == (0.1 if small else 0.3)
    dataset = re.search(r'(kinetics400|kinetics600|sthv1|sthv2|ucf101|hmdb51)', name).group(1)
    classes = {'kinetics400': 400, 'kinetics600': 600, 'sthv1': 174, 'sthv2': 174, 'ucf101': 101, 'hmdb51': 51}[dataset]
    assert model.cls_head.num_classes == classes
    assert all(a.num_classes == classes for a in model.data_preprocessor.blending.augments)
    fine_tune = dataset in ('ucf101', 'hmdb51')
    optimizer = cfg.optim_wrapper.optimizer
    assert optimizer.type == 'AdamW' and optimizer.lr == (5e-5 if fine_tune else 1e-4)
    train_sampler = sampler(cfg.train_dataloader.dataset.pipeline)
    test_pipeline = cfg.test_dataloader.dataset.pipeline
    test_sampler = sampler(test_pipeline)
    if dataset.startswith('sthv'):
        frames = int(re.search(r'-u(\d+)-', name).group(1))
        assert train_sampler == dict(type='UniformSample', clip_len=frames)
        assert 'ThreeCrop' in [t['type'] for t in test_pipeline], 'SSv2 tests 3 crops x 1 clip'
        assert 'Flip' not in [t['type'] for t in cfg.train_dataloader.dataset.pipeline]
        pretrain = re.search(r'_(k\d+)-pre', name).group(1)
        assert pretrain in cfg.model.backbone.init_cfg.checkpoint
        assert cfg.train_dataloader.dataset.type == ('RawframeDataset' if dataset == 'sthv1' else 'VideoDataset')
    elif fine_tune:
        assert (train_sampler['clip_len'], train_sampler['frame_interval']) == (16, 4)
        assert (test_sampler['clip_len'], test_sampler['num_clips']) == (16, 5), '3 crops x 5 clips'
        assert [t for t in test_pipeline if t['type'] == 'ThreeCrop'][0]['crop_size'] == 224
        assert 'k400_16x4' in cfg.model.backbone.init_cfg.checkpoint
        assert cfg.train_cfg.max_epochs == 25 and cfg.train_dataloader.batch_size == 16
    else:
        clip_len, interval = map(int, re.search(r'-(\d+)x(\d+)x1-', name).groups())
        assert (train_sampler['clip_len'], train_sampler['frame_interval']) == (clip_len, interval)
        assert (test_sampler['clip_len'], test_sampler['num_clips']) == (clip_len, 4), 'K400: 1 crop x 4 clips'
        assert 'CenterCrop' in [t['type'] for t in test_pipeline]
        assert 'in1k' in cfg.model.backbone.init_cfg.checkpoint and cfg.model.backbone.inflate == 'avg'


@pytest.mark.slow
@pytest.mark.parametrize('name', sorted(LIGHT))
def test_light_config_builds_the_release_model(name):
    entry = LIGHT[name]
    arch, _, _ = backbone(entry)
    frames = int(re.match(r'(\d+) frames', entry['Metadata']['Architecture'][1]).group(1))
    size, _ = input_size(entry)
    batch, epochs = map(int, re.search(r'_8xb(\d+)-u\d+-(\d+)e_', name).groups())
    cfg = Config.fromfile(str(CONFIG_DIR / name))
    assert 'uniformer_mm.models.heads.recognition' in cfg.custom_imports.imports
    from mmaction.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmaction'):
        model = MODELS.build(cfg.model)
    layout = ('depths', 'embed_dims', 'head_dim')
    assert [model.backbone.arch[k] for k in layout] == [UniFormer3D.arch_zoo[arch][k] for k in layout]
    assert model.backbone.with_cls_token
    assert type(model.cls_head).__name__ == 'UniFormerLightHead' and model.cls_head.cls_weight == 0.5
    assert sum(p.numel() for p in model.parameters()) == entry['Metadata']['Parameters']
    # The release initialises each clip size from the ImageNet weights of that size.
    assert cfg.model.backbone.init_cfg.checkpoint == f'uniformer_{arch}_{size}_in1k'
    assert sampler(cfg.train_dataloader.dataset.pipeline) == dict(type='UniformSample', clip_len=frames)
    for pipeline in (cfg.test_dataloader.dataset.pipeline, cfg.test_pipeline):  # mmaction's inference reads the latter
        assert sampler(pipeline) == dict(type='UniformSample', clip_len=frames, test_mode=True)
        assert [t['crop_size'] for t in pipeline if t['type'] == 'CenterCrop'] == [size]
    assert [t['scale'] for t in cfg.train_dataloader.dataset.pipeline if t['type'] == 'Resize'] == [(size, size)]
    optimizer = cfg.optim_wrapper.optimizer
    assert cfg.optim_wrapper.clip_grad.max_norm == 20
    assert cfg.train_dataloader.batch_size == batch and cfg.train_cfg.max_epochs == epochs
    schedule = cfg.param_scheduler
    assert schedule.warmup_ratio * epochs == pytest.approx(10) and 'end' not in schedule
    assert schedule.start_factor * optimizer.lr == pytest.approx(1e-6) and schedule.eta_min == 1e-6
