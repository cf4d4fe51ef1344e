"""mmengine checkpoints reload under torch.load(weights_only=True); other pickled globals are still refused."""
import os
import pickle
import struct

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

import uniformer_mm  # noqa: F401  (installs the allow-list)


class TinyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, targets=None, mode='tensor'):
        out = self.linear(inputs).squeeze(-1)
        if mode == 'loss':
            return dict(loss=(out - targets).square().mean())
        return out


class TinyData(Dataset):

    def __len__(self):
        return 8

    def __getitem__(self, index):
        return dict(inputs=torch.full((2, ), float(index)), targets=torch.tensor(1.))


def run(work_dir, max_epochs, resume=False):
    runner = Runner(
        model=TinyModel(), work_dir=str(work_dir), experiment_name=f'exp{max_epochs}{resume}',
        train_dataloader=dict(dataset=TinyData(), sampler=dict(type='DefaultSampler', shuffle=True),
                              batch_size=4, collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=1e-2)),
        param_scheduler=dict(type='MultiStepLR', milestones=[1], by_epoch=True),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1)), resume=resume,
        randomness=dict(seed=0))
    runner.train()
    return runner


def test_mmengine_checkpoint_reloads_with_weights_only(tmp_path):
    run(tmp_path, max_epochs=1)
    checkpoint = torch.load(tmp_path / 'epoch_1.pth', weights_only=True)
    assert {'meta', 'state_dict', 'message_hub', 'optimizer', 'param_schedulers'} <= checkpoint.keys()


def test_dataset_meta_arrays_reload_with_weights_only(tmp_path):
    # mmpose stores its keypoint metadata as numpy arrays of several dtypes in every checkpoint's meta.
    dataset_meta = dict(keypoint_colors=np.zeros((17, 3), np.uint8), sigmas=np.full(17, 0.05, np.float32),
                        flip_indices=np.arange(17), visible=np.ones(17, np.bool_))
    torch.save(dict(meta=dict(dataset_meta=dataset_meta)), tmp_path / 'pose.pth')
    loaded = torch.load(tmp_path / 'pose.pth', weights_only=True)['meta']['dataset_meta']
    for key, value in dataset_meta.items():
        assert loaded[key].dtype == value.dtype and np.array_equal(loaded[key], value)


def test_resume_continues_an_interrupted_run(tmp_path):
    run(tmp_path, max_epochs=1)
    resumed = run(tmp_path, max_epochs=2, resume=True)
    assert resumed.epoch == 2 and resumed.iter == 4


class ShellCommand:

    def __reduce__(self):
        return os.system, ('touch pwned',)


def test_other_globals_are_still_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    torch.save({'state_dict': {}, 'payload': ShellCommand()}, tmp_path / 'evil.pth')
    with pytest.raises(pickle.UnpicklingError, match='system'):
        torch.load(tmp_path / 'evil.pth')
    assert not (tmp_path / 'pwned').exists()


def test_getattr_results_cannot_be_called(tmp_path):
    # getattr is allow-listed for HistoryBuffer's statistics methods; what it returns must not be callable:
    # this pickle calls getattr(HistoryBuffer, '__init__') and then calls the result.
    name = b'__init__'
    payload = (b'\x80\x02c__builtin__\ngetattr\ncmmengine.logging.history_buffer\nHistoryBuffer\n'
               b'X' + struct.pack('<I', len(name)) + name + b'\x86R)R.')
    (tmp_path / 'gadget.pth').write_bytes(payload)
    with pytest.raises(pickle.UnpicklingError, match='unrecognized function'):
        torch.load(tmp_path / 'gadget.pth')
