"""Trains a shipped recipe on generated data end to end and shows that it learned.

Runs exactly what a user would: generates the toy data (tools/generate_toy_dense.py) if it is missing, evaluates
the untrained model (tools/test.py without a checkpoint), trains with ``mim train``, evaluates the last
checkpoint with ``mim test``, and prints both metrics and the training time.

Tasks (config in configs/{codebase}/toy/):
    pose  top-down UniFormer-S on stick figures, COCO keypoint AP (about 3 minutes on 2 cores)
    seg   Semantic FPN UniFormer-S-h14 on shapes, ADE20K-style mIoU (about 7 minutes)
    det   Mask R-CNN UniFormer-S-h14 on shapes, COCO box / mask AP (longest)

Example:
    python tools/toy_demo.py pose
"""
import argparse
import subprocess
import sys
import time
from pathlib import Path

from uniformer_mm.launch import newest_test_metrics

ROOT = Path(__file__).resolve().parents[1]
TASKS = {
    'pose': ('mmpose', 'configs/mmpose/toy/td-hm_uniformer-s_toy-figures-128x96.py', ('coco/AP', 'coco/AR')),
    'seg': ('mmseg', 'configs/mmseg/toy/fpn_uniformer-s-h14_toy-shapes-160x160.py', ('mIoU', 'aAcc')),
    'det': ('mmdet', 'configs/mmdet/toy/mask-rcnn_uniformer-s-h14_fpn_toy-shapes.py',
            ('coco/bbox_mAP', 'coco/segm_mAP')),
}
DATA = ROOT / 'data/toy_dense'


def run(args: list, log: Path) -> None:
    """Runs a command with its output in ``log``; on failure shows the end of the log and stops."""
    with open(log, 'w') as f:
        result = subprocess.run([str(a) for a in args], cwd=ROOT, stdout=f, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        sys.exit(f"{' '.join(map(str, args))} failed (exit {result.returncode}); the end of {log}:\n"
                 + log.read_text()[-3000:])


def shown(metrics: dict, key: str) -> str:
    # mmdet's CocoMetric reports nothing when a model detects nothing at all, as an untrained one may.
    return f'{metrics[key]:.3f}' if key in metrics else 'no dets'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('task', nargs='?', choices=sorted(TASKS), default='pose')
    args = parser.parse_args()
    codebase, config, metric_keys = TASKS[args.task]
    work_dir = ROOT / 'work_dirs' / f'toy_demo_{args.task}'
    work_dir.mkdir(parents=True, exist_ok=True)
    mim = Path(sys.executable).parent / 'mim'

    if not DATA.exists():
        run([sys.executable, 'tools/generate_toy_dense.py', 'all', DATA], work_dir / 'generate.log')
    print(f'{args.task}: {config} on {DATA.relative_to(ROOT)} (logs in {work_dir.relative_to(ROOT)}/)', flush=True)

    run([sys.executable, 'tools/test.py', config, '--work-dir', work_dir / 'untrained'], work_dir / 'untrained.log')
    untrained = newest_test_metrics(work_dir / 'untrained')

    start = time.perf_counter()
    run([mim, 'train', codebase, config, '--work-dir', work_dir / 'train'], work_dir / 'train.log')
    minutes = (time.perf_counter() - start) / 60
    checkpoint = (work_dir / 'train' / 'last_checkpoint').read_text().strip()
    run([mim, 'test', codebase, config, '--checkpoint', checkpoint, '--work-dir', work_dir / 'test'],
        work_dir / 'test.log')
    trained = newest_test_metrics(work_dir / 'test')

    print(f'trained for {minutes:.1f} min (mim train), evaluated {Path(checkpoint).name} (mim test)')
    print(f"| {'metric':<14} | untrained | trained |")
    print(f"|{'-' * 16}|-----------|---------|")
    for key in metric_keys:
        print(f'| {key:<14} | {shown(untrained, key):>9} | {shown(trained, key):>7} |')


if __name__ == '__main__':
    main()
