"""Fine-tuning a shipped recipe on your own classes and a short schedule: the overrides users write.

The video recipes' MixUp / CutMix take the head's number of classes (HeadClassesRecognizer3D), so changing
``model.cls_head.num_classes`` alone, by ``--cfg-options`` or in an inheriting config, trains; the image and video
recipes' warm-up is a share of the schedule (WarmupCosineLR), so ``train_cfg.max_epochs=1`` or ``2`` works.
"""
import argparse
import re
import textwrap

import pytest
import torch
import torch.nn as nn
from mmaction.structures import ActionDataSample
from mmengine.config import Config, DictAction
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from uniformer_mm.engine.schedulers import WarmupCosineLR
from uniformer_mm.models.recognizers import HeadClassesRecognizer3D

from helpers import ROOT

VIDEO = ROOT / 'configs/mmaction/uniformer3d-s_in1k-pre_8xb8-16x4x1-200e_kinetics400-rgb.py'
SSV2 = ROOT / 'configs/mmaction/uniformer3d-s_k400-pre_8xb8-u16-200e_sthv2-rgb.py'
LIGHT = ROOT / 'configs/mmaction/uniformer3d-xxs_in1k-pre_8xb32-u16-110e_kinetics400-rgb-160px.py'
HMDB = ROOT / 'configs/mmaction/uniformer3d-s_k400-pre_8xb16-16x4x1-25e_hmdb51-split1-rgb.py'
IMAGE = ROOT / 'configs/mmpretrain/uniformer-small_8xb128_in1k.py'
FINETUNE = ROOT / 'docs/finetune.md'


def cli_options(*options):
    """``--cfg-options`` as tools/train.py and mmaction2's train.py parse them."""
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(['--cfg-options', *options]).cfg_options


def build_recognizer(cfg):
    """The config's recognizer with the XXS backbone, randomly initialised: the blending does not depend on it."""
    from mmaction.registry import MODELS
    model = dict(cfg.model, backbone=dict(cfg.model.backbone, arch='xxs', init_cfg=None),
                 cls_head=dict(cfg.model.cls_head, in_channels=448))
    with DefaultScope.overwrite_default_scope('mmaction'):
        return MODELS.build(model)


def blending_classes(model):
    return [augment.num_classes for augment in model.data_preprocessor.blending.augments]


@pytest.mark.parametrize('config', [VIDEO, SSV2, LIGHT, HMDB], ids=lambda p: p.name)
def test_head_override_on_the_command_line_sets_the_blending(config):
    cfg = Config.fromfile(str(config))
    assert 'num_classes' not in cfg, 'the head holds the only num_classes'
    cfg.merge_from_dict(cli_options('model.cls_head.num_classes=2'))
    model = build_recognizer(cfg)
    assert isinstance(model, HeadClassesRecognizer3D)
    assert model.cls_head.num_classes == 2 and blending_classes(model) == [2, 2]


def test_inheriting_config_that_sets_only_the_head(tmp_path):
    child = tmp_path / 'my-video-classes.py'
    child.write_text(f"_base_ = '{VIDEO}'\nmodel = dict(cls_head=dict(num_classes=3))\n")
    model = build_recognizer(Config.fromfile(str(child)))
    assert model.cls_head.num_classes == 3 and blending_classes(model) == [3, 3]


def test_shipped_class_counts_reach_the_blending():
    assert blending_classes(build_recognizer(Config.fromfile(str(VIDEO)))) == [400, 400]


def test_finetune_doc_video_config_fine_tunes_two_classes_from_its_list_files(tmp_path, monkeypatch):
    """The config of docs/finetune.md's "Fine-tune on your own videos", saved where it says, on its list files."""
    section = FINETUNE.read_text().split('## Fine-tune on your own videos')[1].split('\n## ')[0]
    config = textwrap.dedent(re.search(r'```python\n(.*?)```', section, re.S).group(1))
    (tmp_path / 'configs' / 'mmaction').mkdir(parents=True)
    (tmp_path / 'configs' / 'mmaction' / 'my-video-classes.py').write_text(
        config.replace("'./uniformer3d-s_in1k-pre_8xb8-16x4x1-200e_kinetics400-rgb.py'", repr(str(VIDEO))))
    lists = textwrap.dedent(re.search(r'train_list.txt`:\n\n(\s*)```\n(.*?)```', section, re.S).group(2))
    (tmp_path / 'my_videos').mkdir()
    for name in ('train_list.txt', 'val_list.txt'):
        (tmp_path / 'my_videos' / name).write_text(lists)
    monkeypatch.chdir(tmp_path)
    cfg = Config.fromfile('configs/mmaction/my-video-classes.py')
    assert cfg.optim_wrapper.type == 'OptimWrapper' and cfg.train_cfg.max_epochs == 10
    assert cfg.model.backbone.init_cfg.checkpoint == 'checkpoints/uniformer3d-s_k400.pth'
    model = build_recognizer(cfg)
    assert model.cls_head.num_classes == 2 and blending_classes(model) == [2, 2]
    from mmaction.registry import DATASETS
    with DefaultScope.overwrite_default_scope('mmaction'):
        for loader in (cfg.train_dataloader, cfg.val_dataloader, cfg.test_dataloader):
            dataset = DATASETS.build(loader.dataset)
            assert [(info['filename'], info['label']) for info in dataset.load_data_list()] == [
                ('my_videos/wave/0001.mp4', 0), ('my_videos/clap/0001.mp4', 1)]


def test_a_blending_that_disagrees_with_the_head_is_refused():
    cfg = Config.fromfile(str(VIDEO))
    cfg.merge_from_dict(cli_options('model.cls_head.num_classes=2'))
    cfg.model.data_preprocessor.blending.augments[0].num_classes = 400
    with pytest.raises(ValueError, match='num_classes=400 but cls_head predicts 2 classes'):
        build_recognizer(cfg)


def test_one_training_step_with_two_classes_and_mixup():
    """The step that failed with 'operands could not be broadcast together with shapes (8,2) (8,1,400)'."""
    cfg = Config.fromfile(str(VIDEO))
    cfg.merge_from_dict(cli_options('model.cls_head.num_classes=2'))
    model = build_recognizer(cfg)
    samples = [ActionDataSample().set_gt_label(label) for label in (0, 1)]
    data = dict(inputs=[torch.rand(1, 3, 4, 32, 32) * 255 for _ in samples], data_samples=samples)
    losses = model(**model.data_preprocessor(data, training=True), mode='loss')
    assert torch.isfinite(losses['loss_cls'])


class _Tiny(BaseModel):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, inputs, mode='tensor'):
        return dict(loss=(self.weight * inputs).sum())


@pytest.mark.parametrize('config', [IMAGE, VIDEO, HMDB], ids=lambda p: p.name)
@pytest.mark.parametrize('max_epochs', [1, 2])
def test_recipe_schedule_shortened_to_a_few_epochs(tmp_path, config, max_epochs):
    """The recipe's own param_scheduler and learning rate, through mmengine's runner, 8 iterations an epoch."""
    cfg = Config.fromfile(str(config))
    lr = cfg.optim_wrapper.optimizer.lr
    runner = Runner(
        model=_Tiny(), work_dir=str(tmp_path), train_dataloader=dict(
            dataset=[dict(inputs=torch.ones(1))] * 8, sampler=dict(type='DefaultSampler', shuffle=False), batch_size=1,
            collate_fn=dict(type='default_collate')),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs), optim_wrapper=dict(optimizer=dict(type='SGD', lr=lr)),
        param_scheduler=cfg.param_scheduler, default_hooks=dict(checkpoint=None, logger=None),
        default_scope='mmengine', experiment_name=tmp_path.name)  # not the start time: runs share that second
    learning_rates = []
    runner.register_hook(_RecordLR(learning_rates))
    runner.train()
    schedule = cfg.param_scheduler
    assert learning_rates[0] == pytest.approx(lr * schedule.start_factor)
    assert max(learning_rates) <= lr and max(learning_rates) > 0.5 * lr, 'warmed up within the short schedule'
    assert learning_rates[-1] < 0.1 * lr, 'annealed by the end of the short schedule'


class _RecordLR(Hook):
    def __init__(self, learning_rates):
        self.learning_rates = learning_rates

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self.learning_rates.append(runner.optim_wrapper.get_lr()['lr'][0])


def test_warmup_cosine_refuses_bad_arguments():
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1.)
    with pytest.raises(ValueError, match='share of the schedule'):
        WarmupCosineLR(optimizer, warmup_ratio=1.5, end=10)
    with pytest.raises(ValueError, match='needs a finite end'):
        WarmupCosineLR(optimizer, warmup_ratio=0.1)
