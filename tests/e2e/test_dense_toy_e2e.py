"""End to end on generated data, with the commands users run: mim train / mim test for mmdet, mmseg and mmpose,
--resume of an interrupted run, and a two-process distributed run on the CPU.

Each run is a few iterations (a smoke test sized for CI); the learning itself is measured by the README's
main command (tools/demo.sh), not here.
"""
from pathlib import Path

import pytest

from uniformer_mm.apis import newest_test_metrics

from helpers import MIM, PYTHON, ROOT, run

pytestmark = pytest.mark.slow  # mim subprocesses: minutes on 2 cores
TOY = {
    'mmdet': (ROOT / 'configs/mmdet/toy/mask-rcnn_uniformer-s-h14_fpn_toy-shapes.py',
              ['train_cfg.max_epochs=1', 'train_cfg.val_interval=1', 'train_dataloader.batch_size=2'],
              'epoch_1.pth', ('coco/bbox_mAP', 'coco/segm_mAP')),
    'mmseg': (ROOT / 'configs/mmseg/toy/fpn_uniformer-s-h14_toy-shapes-160x160.py',
              ['train_cfg.max_iters=2', 'train_cfg.val_interval=2', 'default_hooks.checkpoint.interval=2',
               'train_dataloader.batch_size=2'],
              'iter_2.pth', ('mIoU', 'aAcc')),
    'mmpose': (ROOT / 'configs/mmpose/toy/td-hm_uniformer-s_toy-figures-128x96.py',
               ['train_cfg.max_epochs=1', 'train_cfg.val_interval=1', 'train_dataloader.batch_size=4'],
               'epoch_1.pth', ('coco/AP', 'coco/AR')),
}


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory) -> Path:
    """A folder holding data/toy_dense (the toy configs' data root), used as the working directory."""
    root = tmp_path_factory.mktemp('toy')
    run([PYTHON, ROOT / 'tools/dataset_converters/generate_toy_dense.py', 'all', 'data/toy_dense', '--train', '8',
         '--val', '4', '--size', '96'], cwd=root)
    return root


def mim_train(toy_root: Path, codebase: str) -> Path:
    """Trains a codebase's toy recipe for a few iterations with ``mim train``; returns its work dir."""
    config, short, checkpoint, _ = TOY[codebase]
    work_dir = toy_root / 'work' / codebase
    run([MIM, 'train', codebase, config, '--work-dir', work_dir, '--cfg-options', *short], cwd=toy_root)
    assert (work_dir / checkpoint).exists()
    return work_dir


@pytest.fixture(scope='module')
def trained_mmseg(toy_root) -> Path:
    """The mmseg toy recipe trained once per worker that runs a test needing a trained checkpoint (the tests are
    contiguous, and tools/test.sh's slow tier hands them out in order, so usually one worker trains it)."""
    return mim_train(toy_root, 'mmseg')


@pytest.mark.parametrize('codebase', ['mmseg', 'mmdet', 'mmpose'])
def test_mim_train_then_mim_test(request, toy_root, codebase):
    config, _, checkpoint, metric_keys = TOY[codebase]
    work_dir = request.getfixturevalue('trained_mmseg') if codebase == 'mmseg' else mim_train(toy_root, codebase)
    output = run([MIM, 'test', codebase, config, '--checkpoint', work_dir / checkpoint, '--work-dir', work_dir],
                 cwd=toy_root)
    metrics = newest_test_metrics(work_dir)
    for key in metric_keys:
        assert key in metrics and key in output
        assert metrics[key] >= 0 or metrics[key] == -1  # COCO reports -1 where a category has no instance


@pytest.mark.parametrize('codebase, config', [
    ('mmseg', ROOT / 'configs/mmseg/toy/fpn_uniformer-xxs_toy-shapes-160x160.py'),
    ('mmdet', ROOT / 'configs/mmdet/toy/mask-rcnn_uniformer-xxs_fpn_toy-shapes.py'),
])
def test_light_toy_recipes_train_and_test_with_mim(toy_root, codebase, config):
    _, short, checkpoint, metric_keys = TOY[codebase]
    work_dir = toy_root / 'work' / f'{codebase}-xxs'
    run([MIM, 'train', codebase, config, '--work-dir', work_dir, '--cfg-options', *short], cwd=toy_root)
    run([MIM, 'test', codebase, config, '--checkpoint', work_dir / checkpoint, '--work-dir', work_dir], cwd=toy_root)
    metrics = newest_test_metrics(work_dir)
    assert all(key in metrics for key in metric_keys)


def test_resume_continues_an_interrupted_run(toy_root):
    config, short, _, _ = TOY['mmseg']
    work_dir = toy_root / 'work' / 'resume'
    run([MIM, 'train', 'mmseg', config, '--work-dir', work_dir, '--cfg-options', *short], cwd=toy_root)
    longer = [o for o in short if not o.startswith('train_cfg.max_iters')] + ['train_cfg.max_iters=4']
    output = run([MIM, 'train', 'mmseg', config, '--work-dir', work_dir, '--resume', '--cfg-options', *longer],
                 cwd=toy_root)
    assert f'Auto resumed from the latest checkpoint {work_dir}/iter_2.pth' in output
    assert 'resumed epoch: 0, iter: 2' in output
    assert 'Iter(train) [3/4]' in output or 'Iter(train) [4/4]' in output
    assert (work_dir / 'iter_4.pth').exists()


def test_two_process_cpu_training_with_gloo(toy_root):
    config, short, checkpoint, _ = TOY['mmseg']
    work_dir = toy_root / 'work' / 'dist'
    output = run(['bash', ROOT / 'tools/dist_train.sh', config, 2, '--work-dir', work_dir, '--cfg-options', *short],
                 cwd=toy_root, env=dict(PYTHON=PYTHON, PORT='29517'))
    assert 'Distributed launcher: pytorch' in output and 'Distributed training: True' in output
    assert 'GPU number: 2' in output  # mmengine's name for the world size
    assert 'SyncBN layers use per-process BatchNorm statistics' in output  # the toy FPN head's norm_cfg
    assert 'Iter(val) [2/2]' in output  # 4 val images split over the 2 processes
    assert (work_dir / checkpoint).exists()
    assert 'mIoU:' in output


def test_untrained_baseline_is_evaluated_without_a_checkpoint(toy_root):
    config = TOY['mmseg'][0]
    work_dir = toy_root / 'work' / 'untrained'
    output = run([PYTHON, ROOT / 'tools/test.py', config, '--work-dir', work_dir], cwd=toy_root)
    assert 'load checkpoint' not in output.lower()
    assert 0 <= newest_test_metrics(work_dir)['mIoU'] <= 100


def test_fast_cpu_path_evaluates_like_the_plain_model(toy_root, trained_mmseg):
    """tools/test.py --deploy --channels-last --compile gives the plain model's metrics on a trained checkpoint."""
    config, _, checkpoint, metric_keys = TOY['mmseg']
    metrics = {}
    for name, options in [('plain', []), ('fast', ['--deploy', '--channels-last', '--compile'])]:
        work_dir = toy_root / 'work' / 'fast-path' / name
        run([PYTHON, ROOT / 'tools/test.py', config, '--checkpoint', trained_mmseg / checkpoint, '--work-dir',
             work_dir, *options], cwd=toy_root)
        metrics[name] = newest_test_metrics(work_dir)
    for key in metric_keys:
        # mmseg rounds metrics to 0.01: allow one rounding step (a float32 0.01 reads 0.0100002), no more.
        assert abs(metrics['fast'][key] - metrics['plain'][key]) <= 0.01 + 1e-5, (key, metrics)


def test_multi_scale_test_takes_the_checkpoint_as_mmseg_does(toy_root, trained_mmseg):
    """tools/test.py CONFIG CHECKPOINT --tta: the OpenMMLab positional form, and the multi-scale and flip test
    (mmseg's tta_pipeline) behind the published multi-scale mIoU."""
    config, _, checkpoint, _ = TOY['mmseg']
    metrics = {}
    for name, options in [('single', []), ('tta', ['--tta'])]:
        work_dir = toy_root / 'work' / 'tta' / name
        output = run([PYTHON, ROOT / 'tools/test.py', config, trained_mmseg / checkpoint, '--work-dir', work_dir,
                      *options], cwd=toy_root)
        assert 'load checkpoint' in output.lower()
        metrics[name] = newest_test_metrics(work_dir)
    # Twelve views (six scales, flipped and not) average to other predictions than the single scale's.
    assert metrics['tta'] != metrics['single'] and 0 < metrics['tta']['mIoU'] <= 100, metrics
