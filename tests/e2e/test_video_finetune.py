"""docs/finetune.md's "Fine-tune on your own videos" at toy size, as `python demo/toy_demo.py video --pretrained
stand-in` runs it: a stand-in for the Kinetics-400 checkpoint that has learned motion (the S toy-motion recipe
trained from scratch with `mim train` on other clips, saved in the release's layout), converted with
tools/convert_checkpoint.py, then the toy fine-tune config (the Kinetics recipe with 2 classes, mixup / cutmix on)
trained for one epoch. The fine-tuned model must beat the untrained one (the network as initialised), which only the
converted weights can make it do in one epoch: the same epoch from an as-initialised stand-in stayed at chance
(0.625 on 8 validation clips, the untrained model 0.75)."""
import json
import re

import pytest
import torch

from helpers import MIM, OFFICIAL_KEYS, PYTHON, ROOT, load_script, run

# mim subprocesses: pre-training, conversion, fine-tuning (about 2 min on 2 cores)
pytestmark = [pytest.mark.slow, pytest.mark.long]
CONFIG = ROOT / 'configs/mmaction/toy/uniformer3d-s_k400-pre_toy-motion-finetune-rgb.py'
PRETRAIN_CONFIG = ROOT / 'configs/mmaction/toy/uniformer3d-s_toy-motion-rgb.py'
# Cheaper than the configs' 16 frames at 64 px: 8 frames at 32 px (both configs share these pipelines).
SMALL_CLIPS = ['train_dataloader.dataset.pipeline.0.clip_len=8', 'train_dataloader.dataset.pipeline.3.scale=(32,32)',
               'val_dataloader.dataset.pipeline.0.clip_len=8', 'val_dataloader.dataset.pipeline.2.scale=(32,32)',
               'test_dataloader.dataset.pipeline.0.clip_len=8', 'test_dataloader.dataset.pipeline.2.scale=(32,32)']
TOP1 = re.compile(r'Epoch\((?:val|test)\) .*?acc/top1: ([\d.]+)')


def load_demo():
    return load_script(ROOT / 'demo' / 'toy_demo.py')


def last_top1(log: str) -> float:
    return float(TOP1.findall(log)[-1])


def test_fine_tuning_a_converted_kinetics_checkpoint_beats_the_untrained_model(tmp_path):
    for folder, seed, clips in (('data/toy_motion_pretrain', '1', '64'), ('data/toy_motion', '0', '32')):
        run([PYTHON, ROOT / 'tools/dataset_converters/generate_toy_video.py', folder, '--seed', seed,
             '--train', clips, '--val', '16', '--frames', '8', '--size', '32'], cwd=tmp_path)

    pretrain_data = tmp_path / 'data/toy_motion_pretrain'
    output = run([MIM, 'train', 'mmaction', PRETRAIN_CONFIG, '--work-dir', tmp_path / 'pretrain', '--cfg-options',
                  *SMALL_CLIPS, 'train_cfg.max_epochs=8', 'train_cfg.val_interval=8',
                  f'train_dataloader.dataset.ann_file={pretrain_data}/train.txt',
                  f'train_dataloader.dataset.data_prefix.img={pretrain_data}/rawframes',
                  f'val_dataloader.dataset.ann_file={pretrain_data}/val.txt',
                  f'val_dataloader.dataset.data_prefix.img={pretrain_data}/rawframes'], cwd=tmp_path)
    assert last_top1(output) >= 0.75, 'the stand-in did not learn motion; nothing to transfer'

    official = tmp_path / 'uniformer_small_k400_16x8.pth'
    load_demo().write_stand_in_kinetics_checkpoint(official, tmp_path / 'pretrain' / 'epoch_8.pth')
    layout = json.loads((OFFICIAL_KEYS / 'video_small_k400.json').read_text())['keys']
    stand_in = torch.load(official, weights_only=True)['model_state']
    assert {k: list(v.shape) for k, v in stand_in.items()} == layout

    (tmp_path / 'checkpoints').mkdir()
    output = run([PYTHON, ROOT / 'tools/convert_checkpoint.py', 'slowfast-video', official,
                  'checkpoints/uniformer3d-s_k400.pth'], cwd=tmp_path)
    assert 'arch small, 400 classes, for I3DHead' in output

    output = run([PYTHON, ROOT / 'tools/test.py', CONFIG, '--work-dir', tmp_path / 'untrained', '--cfg-options',
                  *SMALL_CLIPS, 'model.backbone.init_cfg=None'], cwd=tmp_path)
    untrained = last_top1(output)

    output = run([MIM, 'train', 'mmaction', CONFIG, '--work-dir', tmp_path / 'work', '--cfg-options', *SMALL_CLIPS,
                  'train_cfg.max_epochs=1', 'train_cfg.val_interval=1', 'default_hooks.checkpoint.interval=1'],
                 cwd=tmp_path)
    # The backbone came from the converted Kinetics file (331 tensors: its 400-way classifier is not used).
    assert 'loaded 329 tensors from checkpoints/uniformer3d-s_k400.pth' in output
    fine_tuned = last_top1(output)
    assert fine_tuned >= 0.75 and fine_tuned > untrained, (untrained, fine_tuned)
