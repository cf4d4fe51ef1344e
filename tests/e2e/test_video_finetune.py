"""README's "Fine-tune on your own videos" at toy size: an official-layout Kinetics-400 S checkpoint converted with
tools/convert_checkpoint.py, the toy fine-tune config (the Kinetics recipe with 2 classes, mixup / cutmix on, its
schedule shortened to one epoch) trained and validated with mim train.

It shows the journey runs (the 2-class mixup step that crashed, the warm-up that did not fit one epoch, the
checkpoint loading); it does not show learning: a stand-in checkpoint carries no Kinetics knowledge, and learning
the direction of motion from scratch takes minutes (docs/toy_runs.md), more than this test may cost."""
import json

import pytest
import torch

from uniformer_mm import UniFormer3D

from helpers import MIM, OFFICIAL_KEYS, PYTHON, ROOT, run

pytestmark = pytest.mark.slow  # mim subprocesses
CONFIG = ROOT / 'configs/mmaction/toy/uniformer3d-s_k400-pre_toy-motion-finetune-rgb.py'
# Cheaper than the config's 16 frames at 64 px: 8 frames at 32 px, 4 clips a step.
SMALL_CLIPS = ['train_dataloader.dataset.pipeline.0.clip_len=8', 'train_dataloader.dataset.pipeline.3.scale=(32,32)',
               'val_dataloader.dataset.pipeline.0.clip_len=8', 'val_dataloader.dataset.pipeline.2.scale=(32,32)',
               'test_dataloader.dataset.pipeline.0.clip_len=8', 'test_dataloader.dataset.pipeline.2.scale=(32,32)',
               'train_dataloader.batch_size=4']


def write_stand_in_kinetics_checkpoint(path):
    """UniFormer-S as initialised, saved in the release's Kinetics-400 layout ({'model_state': ...}, 400 classes).

    No Kinetics knowledge (none can be downloaded here): the same loading path as the real file.
    """
    backbone = UniFormer3D(arch='small')
    backbone.init_weights()
    head = torch.nn.Linear(512, 400)
    state = {**backbone.state_dict(), 'head.weight': head.weight.detach(), 'head.bias': head.bias.detach()}
    layout = json.loads((OFFICIAL_KEYS / 'video_small_k400.json').read_text())['keys']
    assert {k: list(v.shape) for k, v in state.items()} == layout
    torch.save(dict(model_state=state), path)


def test_fine_tune_a_converted_kinetics_checkpoint_on_two_classes(tmp_path):
    run([PYTHON, ROOT / 'tools/dataset_converters/generate_toy_video.py', 'data/toy_motion',
         '--train', '8', '--val', '4', '--frames', '8', '--size', '32'], cwd=tmp_path)
    official = tmp_path / 'uniformer_small_k400_16x8.pth'
    write_stand_in_kinetics_checkpoint(official)
    (tmp_path / 'checkpoints').mkdir()
    output = run([PYTHON, ROOT / 'tools/convert_checkpoint.py', 'slowfast-video', official,
                  'checkpoints/uniformer3d-s_k400.pth'], cwd=tmp_path)
    assert 'arch small, 400 classes, for I3DHead' in output

    work_dir = tmp_path / 'work'
    output = run([MIM, 'train', 'mmaction', CONFIG, '--work-dir', work_dir, '--cfg-options', *SMALL_CLIPS,
                  'train_cfg.max_epochs=1', 'train_cfg.val_interval=1', 'default_hooks.checkpoint.interval=1'],
                 cwd=tmp_path)
    # The backbone came from the converted Kinetics file (331 tensors: its 400-way classifier is not used).
    assert 'loaded 329 tensors from checkpoints/uniformer3d-s_k400.pth' in output
    assert 'Epoch(val) [1][1/1]    acc/top1: ' in output and (work_dir / 'epoch_1.pth').exists()
