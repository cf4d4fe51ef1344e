"""End to end through mim: generate toy clips, train the toy recipe for one epoch, test its checkpoint."""
from pathlib import Path

import pytest

from helpers import MIM, PYTHON, run

pytestmark = pytest.mark.slow  # mim subprocesses: minutes on 2 cores
# The S toy recipe trains with mim train in tests/e2e/test_video_finetune.py (the stand-in Kinetics checkpoint).
CONFIGS = ('configs/mmaction/toy/uniformer3d-xxs_toy-motion-rgb.py', )


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
    run([PYTHON, 'tools/dataset_converters/generate_toy_video.py', data,
         '--train', '8', '--val', '4', '--size', '32'])
    run([MIM, 'train', 'mmaction', config, '--work-dir', work_dir, '--cfg-options', 'train_cfg.max_epochs=1',
         'train_dataloader.batch_size=4', *data_options(data, 'val')])
    checkpoint = work_dir / 'epoch_1.pth'
    assert checkpoint.exists()
    for ann_file in ('val', 'val_shuffled'):
        output = run([MIM, 'test', 'mmaction', config, '--checkpoint', checkpoint, '--work-dir', work_dir,
                      '--cfg-options', *data_options(data, ann_file)])
        assert 'acc/top1' in output
