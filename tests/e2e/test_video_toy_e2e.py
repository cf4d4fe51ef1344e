"""End to end through mim: generate toy clips, train the toy recipe for one epoch, test its checkpoint."""
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # mim subprocesses: minutes on 2 cores
ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ('configs/mmaction/toy/uniformer3d-s_toy-motion-rgb.py',
           'configs/mmaction/toy/uniformer3d-xxs_toy-motion-rgb.py')


def run(args, **kwargs):
    result = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=900, **kwargs)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout + result.stderr


def data_options(data: Path, ann_file: str):
    options = []
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        split = 'train' if loader == 'train_dataloader' else ann_file
        options += [f'{loader}.dataset.ann_file={data}/{split}.txt',
                    f'{loader}.dataset.data_prefix.img={data}/rawframes']
    return options


@pytest.mark.parametrize('config', CONFIGS)
def test_mim_train_and_test_on_generated_clips(tmp_path, config):
    data, work_dir = tmp_path / 'toy', tmp_path / 'work'
    run([sys.executable, 'tools/dataset_converters/generate_toy_video.py', str(data),
         '--train', '8', '--val', '4', '--size', '32'])
    mim = str(Path(sys.executable).parent / 'mim')
    run([mim, 'train', 'mmaction', config, '--work-dir', str(work_dir), '--cfg-options', 'train_cfg.max_epochs=1',
         'train_dataloader.batch_size=4', *data_options(data, 'val')])
    checkpoint = work_dir / 'epoch_1.pth'
    assert checkpoint.exists()
    for ann_file in ('val', 'val_shuffled'):
        output = run([mim, 'test', 'mmaction', config, '--checkpoint', str(checkpoint), '--work-dir', str(work_dir),
                      '--cfg-options', *data_options(data, ann_file)])
        assert 'acc/top1' in output
