"""The checkpoint reader with real files: what mmengine's Runner writes reloads and resumes exactly, torch's own
policy stays as it was, and every bad file gets one error naming the file and the cause."""
import io
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.logging import HistoryBuffer
from mmengine.model import BaseModel
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint
from torch.utils.data import Dataset

import uniformer_mm  # noqa: F401  (installs the mmengine checkpoint loaders)
from uniformer_mm import CheckpointFileError
from uniformer_mm.checkpoint_safety import load_checkpoint_file


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
        return dict(inputs=torch.tensor([float(index), 1.]), targets=torch.tensor(float(index % 3)))


class RecordLosses(Hook):

    def __init__(self):
        self.losses = []

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.losses.append((runner.iter, outputs['loss'].item()))


class Interrupt(Hook):
    """Stops the run after an epoch, once that epoch's checkpoint is written (CheckpointHook runs before it)."""
    priority = 'LOWEST'

    def __init__(self, after_epoch):
        self.after_epoch = after_epoch

    def after_train_epoch(self, runner):
        if runner.epoch == self.after_epoch:
            raise KeyboardInterrupt


def run(work_dir, max_epochs=2, resume=False, interrupt_after=None):
    torch.manual_seed(0)
    recorder = RecordLosses()
    hooks = [recorder] + ([Interrupt(interrupt_after)] if interrupt_after else [])
    # mmengine keeps one Visualizer and MessageHub per experiment name (plus the second it starts): names shared
    # by runs of two tests that start in the same second sent the second run's logs to the first's deleted folder
    runner = Runner(
        model=TinyModel(), work_dir=str(work_dir), experiment_name=f'{work_dir.name}_{resume}_{interrupt_after}',
        train_dataloader=dict(dataset=TinyData(), sampler=dict(type='DefaultSampler', shuffle=True),
                              batch_size=4, collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=1e-1)),
        param_scheduler=dict(type='MultiStepLR', milestones=[1], by_epoch=True),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs), custom_hooks=hooks,
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1)), resume=resume,
        randomness=dict(seed=0))
    try:
        runner.train()
    except KeyboardInterrupt:
        pass
    return runner, recorder.losses


def test_runner_checkpoint_reloads_with_real_history_buffers(tmp_path):
    runner, _ = run(tmp_path, max_epochs=1)
    checkpoint = _load_checkpoint(str(tmp_path / 'epoch_1.pth'))
    assert {'meta', 'state_dict', 'message_hub', 'optimizer', 'param_schedulers'} <= checkpoint.keys()
    loss = checkpoint['message_hub']['log_scalars']['train/loss']
    assert type(loss) is HistoryBuffer
    saved = runner.message_hub.get_scalar('train/loss')
    assert np.array_equal(loss.data[0], saved.data[0]) and loss.mean() == saved.mean()


def test_resumed_run_logs_the_same_losses_as_an_uninterrupted_one(tmp_path):
    _, uninterrupted = run(tmp_path / 'whole')
    _, first_part = run(tmp_path / 'parts', interrupt_after=1)
    resumed, second_part = run(tmp_path / 'parts', resume=True)
    assert resumed.epoch == 2 and resumed.iter == 4 and len(uninterrupted) == 4
    # the same samples, weights, optimizer moments and learning rates: the same losses, to the last bit
    assert first_part + second_part == uninterrupted


def test_dataset_meta_arrays_reload(tmp_path):
    # mmpose stores its keypoint metadata as numpy arrays of several dtypes in every checkpoint's meta.
    dataset_meta = dict(keypoint_colors=np.zeros((17, 3), np.uint8), sigmas=np.full(17, 0.05, np.float32),
                        flip_indices=np.arange(17), visible=np.ones(17, np.bool_),
                        fortran=np.asfortranarray(np.arange(6.).reshape(2, 3)), big_endian=np.arange(3, dtype='>i4'))
    torch.save(dict(meta=dict(dataset_meta=dataset_meta)), tmp_path / 'pose.pth')
    loaded = _load_checkpoint(str(tmp_path / 'pose.pth'))['meta']['dataset_meta']
    for key, value in dataset_meta.items():
        assert loaded[key].dtype == value.dtype and np.array_equal(loaded[key], value)
    assert loaded['fortran'].flags.f_contiguous


def test_empty_arrays_empty_buffers_and_numpy_keys_reload(tmp_path):
    content = dict(empty=np.zeros((0, 3), np.float32), buffer=HistoryBuffer(), names={np.int64(0): 'cat'},
                   flags=np.bool_(True), shape=torch.Size([2, 3]), dtype=torch.float16, device=torch.device('cpu'))
    torch.save(dict(meta=content), tmp_path / 'edge.pth')
    loaded = _load_checkpoint(str(tmp_path / 'edge.pth'))['meta']
    assert loaded['empty'].shape == (0, 3) and loaded['empty'].dtype == np.float32
    assert type(loaded['buffer']) is HistoryBuffer and len(loaded['buffer'].data[0]) == 0
    assert loaded['names'] == {0: 'cat'} and type(next(iter(loaded['names']))) is np.int64
    assert loaded['flags'] is not True and loaded['flags'] == np.bool_(True)
    assert loaded['shape'] == torch.Size([2, 3]) and type(loaded['shape']) is torch.Size
    assert loaded['dtype'] is torch.float16 and loaded['device'] == torch.device('cpu')


def test_torch_allow_list_is_neither_read_nor_written(tmp_path):
    # torch's error message advises adding numpy's globals; the reader neither uses nor changes that list.
    before = torch.serialization.get_safe_globals()
    numpy_globals = [np.dtype, np.ndarray, np.zeros(1).__reduce__()[0], type(np.dtype('U2'))]
    torch.serialization.add_safe_globals(numpy_globals)
    try:
        torch.save(dict(meta=dict(text=np.array(['hi'])), state_dict={}), tmp_path / 'unicode.pth')
        torch.save(dict(meta=dict(value=np.arange(3.))), tmp_path / 'plain.pth')
        for _ in range(5):
            with pytest.raises(CheckpointFileError, match="numpy dtype 'U2' is not a plain numeric dtype"):
                _load_checkpoint(str(tmp_path / 'unicode.pth'))
            assert np.array_equal(_load_checkpoint(str(tmp_path / 'plain.pth'))['meta']['value'], np.arange(3.))
        assert sorted(map(str, torch.serialization.get_safe_globals())) == sorted(map(str, before + numpy_globals))
    finally:
        torch.serialization.clear_safe_globals()
        torch.serialization.add_safe_globals(before)


def test_torch_policy_is_not_widened(tmp_path):
    assert not any('numpy' in str(g) or 'HistoryBuffer' in str(g) or 'getattr' in str(g)
                   for g in torch.serialization.get_safe_globals())
    torch.save(dict(meta=dict(scale=np.float64(2.0))), tmp_path / 'numpy.pth')
    assert _load_checkpoint(str(tmp_path / 'numpy.pth'))['meta']['scale'] == 2.0
    with pytest.raises(Exception, match='numpy'):  # torch.load elsewhere keeps torch's default policy
        torch.load(tmp_path / 'numpy.pth')


def _zip_checkpoint() -> bytes:
    buffer = io.BytesIO()
    torch.save(dict(state_dict=dict(weight=torch.arange(1000.))), buffer)
    return buffer.getvalue()


def _legacy_checkpoint() -> bytes:
    buffer = io.BytesIO()
    torch.save(dict(state_dict=dict(weight=torch.arange(1000.))), buffer, _use_new_zipfile_serialization=False)
    return buffer.getvalue()


@pytest.mark.parametrize('content, cause', [
    (b'', 'the file is empty (0 bytes)'),
    (b'\x00\x01' + os.urandom(4096), 'not a PyTorch checkpoint: it starts with bytes'),
    (_zip_checkpoint()[:3000], 'truncated or corrupt: the file does not end with a zip end record'),
    (_legacy_checkpoint(), 'a legacy (pre-1.6) torch.save file, which this reader does not read'),
])
def test_unreadable_files_name_the_file_and_the_cause(tmp_path, content, cause):
    (tmp_path / 'bad.pth').write_bytes(content)
    with pytest.raises(CheckpointFileError, match=r'bad\.pth: ') as error:
        _load_checkpoint(str(tmp_path / 'bad.pth'))
    assert cause in str(error.value) and 'weights_only=False' not in str(error.value)


@pytest.mark.parametrize('content, kind', [([torch.zeros(1)], 'list'), (torch.zeros(3), 'Tensor'), (7, 'int')])
def test_file_that_is_not_a_dict(tmp_path, content, kind):
    torch.save(content, tmp_path / 'list.pth')
    with pytest.raises(CheckpointFileError, match=f"list.pth: holds a {kind}, but a checkpoint is a dict"):
        load_checkpoint_file(tmp_path / 'list.pth')


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth: no such checkpoint file'):
        load_checkpoint_file(tmp_path / 'nope.pth')


def _archive(path, pickle_bytes):
    with zipfile.ZipFile(path, 'w') as archive:
        archive.writestr('archive/data.pkl', pickle_bytes)
        archive.writestr('archive/version', '3\n')
    return path


def test_refused_global_is_named(tmp_path):
    _archive(tmp_path / 'evil.pth', b'\x80\x02cposix\nsystem\nX\x02\x00\x00\x00ls\x85R.')
    with pytest.raises(CheckpointFileError) as error:
        _load_checkpoint(str(tmp_path / 'evil.pth'))
    assert str(error.value) == (f'{tmp_path / "evil.pth"}: refused by the checkpoint reader: the global '
                                'posix.system, which a checkpoint has no use for')


def test_opcode_torch_save_does_not_write_is_named(tmp_path):
    # protocol 4's SHORT_BINUNICODE
    _archive(tmp_path / 'odd.pth', b'\x80\x02\x8c\x01a.')
    with pytest.raises(CheckpointFileError) as error:
        _load_checkpoint(str(tmp_path / 'odd.pth'))
    assert str(error.value) == (f'{tmp_path / "odd.pth"}: refused by the checkpoint reader: pickle opcode 0x8c at '
                                'byte 2, which torch.save does not write')


@pytest.mark.slow
def test_pose_inferencer_api_reads_a_runner_checkpoint_with_numpy_metadata(tmp_path):
    """mmpose's init_model (as its inferencer) loads through mmengine's loader: weights and numpy dataset_meta."""
    from mmengine.logging import MessageHub
    from mmpose.apis import init_model
    config = str(Path(__file__).resolve().parents[1] / 'configs/mmpose/toy/td-hm_uniformer-s_toy-figures-128x96.py')
    model = init_model(config, device='cpu')
    hub = MessageHub.get_instance('pose_inference_test')
    hub.update_scalar('train/loss', 0.5)
    sigmas = np.linspace(0.02, 0.1, 17).astype(np.float32)
    state_dict = {k: torch.randn_like(v) if v.is_floating_point() else v for k, v in model.state_dict().items()}
    torch.save(dict(state_dict=state_dict, message_hub=hub.state_dict(),
                    meta=dict(dataset_meta=dict(dataset_name='toy', sigmas=sigmas, flip_indices=list(range(17))))),
               tmp_path / 'pose.pth')
    loaded = init_model(config, str(tmp_path / 'pose.pth'), device='cpu')
    assert np.array_equal(loaded.dataset_meta['sigmas'], sigmas)
    key = 'backbone.blocks3.0.attn.qkv.weight'
    assert torch.equal(loaded.state_dict()[key], state_dict[key])
