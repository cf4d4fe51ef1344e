"""Trains a shipped recipe on generated data end to end and shows that it learned.

Runs exactly what a user would: generates the toy data (tools/dataset_converters/) if it is missing, evaluates
the untrained model (tools/test.py without a checkpoint), trains with ``mim train`` (showing its progress),
evaluates the last checkpoint with ``mim test``, and prints both metrics and the training time.

Tasks (config in configs/{codebase}/toy/):
    pose  top-down UniFormer-S on stick figures, COCO keypoint AP (about 3 minutes on 2 cores)
    seg   Semantic FPN UniFormer-S-h14 on shapes, ADE20K-style mIoU (about 7 minutes)
    det   Mask R-CNN UniFormer-S-h14 on shapes, COCO box / mask AP (longest)
    seg-xxs, det-xxs  the same with the light UniFormer-XXS (token pruning)
    cls   UniFormer-S fine-tuned from its ImageNet checkpoint on a class-per-folder set of shapes, top-1
          accuracy (about 3 minutes); "untrained" is the ImageNet backbone with a new, untrained head.
          ``--pretrained`` picks the ImageNet checkpoint: the released uniformer_small_in1k by default
          (downloaded on first use), a path, or ``stand-in`` for UniFormer-S as initialised, saved in the
          release's layout, where the released file cannot be downloaded.
    video UniFormer-S fine-tuned from a Kinetics-400 checkpoint (converted with tools/convert_checkpoint.py) on
          the direction-of-motion clips, top-1 accuracy (about 11 minutes); "untrained" is the network as
          initialised. ``--pretrained`` is the release's uniformer_small_k400_16x8.pth, or ``stand-in``: the
          toy-motion recipe trained here from scratch on other clips (data/toy_motion_pretrain), saved in the
          release's Kinetics layout, a checkpoint that knows motion as a Kinetics one does, at toy size.

Example:
    python demo/toy_demo.py pose
    python demo/toy_demo.py cls --pretrained stand-in
    python demo/toy_demo.py video --pretrained stand-in
"""
import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

import torch
import torch.nn as nn

from uniformer_mm.apis import newest_test_metrics

ROOT = Path(__file__).resolve().parents[1]

TASKS = {
    'pose': ('mmpose', 'configs/mmpose/toy/td-hm_uniformer-s_toy-figures-128x96.py', ('coco/AP', 'coco/AR')),
    'seg': ('mmseg', 'configs/mmseg/toy/fpn_uniformer-s-h14_toy-shapes-160x160.py', ('mIoU', 'aAcc')),
    'det': ('mmdet', 'configs/mmdet/toy/mask-rcnn_uniformer-s-h14_fpn_toy-shapes.py',
            ('coco/bbox_mAP', 'coco/segm_mAP')),
    'cls': ('mmpretrain', 'configs/mmpretrain/toy/uniformer-small_toy-shapes-96px.py', ('accuracy/top1', )),
    'video': ('mmaction', 'configs/mmaction/toy/uniformer3d-s_k400-pre_toy-motion-finetune-rgb.py', ('acc/top1', )),
    'seg-xxs': ('mmseg', 'configs/mmseg/toy/fpn_uniformer-xxs_toy-shapes-160x160.py', ('mIoU', 'aAcc')),
    'det-xxs': ('mmdet', 'configs/mmdet/toy/mask-rcnn_uniformer-xxs_fpn_toy-shapes.py',
                ('coco/bbox_mAP', 'coco/segm_mAP')),
}
# The data root of each task's config, and the generator that writes it.
DATA = {
    'dense': (ROOT / 'data/toy_dense', ['tools/dataset_converters/generate_toy_dense.py', 'all']),
    'cls': (ROOT / 'data/toy_classes', ['tools/dataset_converters/generate_toy_classes.py']),
    'video': (ROOT / 'data/toy_motion', ['tools/dataset_converters/generate_toy_video.py']),
}
# The video stand-in learns motion from clips other than the fine-tuning ones (another seed).
PRETRAIN_VIDEO_DATA = (ROOT / 'data/toy_motion_pretrain', ['tools/dataset_converters/generate_toy_video.py',
                                                           '--seed', '1'])
PRETRAIN_VIDEO_CONFIG = 'configs/mmaction/toy/uniformer3d-s_toy-motion-rgb.py'

# mmengine's training log lines: "Epoch(train)  [3][10/12]  ... eta: 0:01:02 ... loss: 0.5432 ..."
TRAIN_LOG_LINE = re.compile(r'(Epoch|Iter)\(train\)\s*((?:\[\s*[\d/\s]+\])+)')
LOSS = re.compile(r'\sloss: ([\d.]+)')
ETA = re.compile(r'eta: (\S+)')


def run(args: list, log: Path, progress: bool = False) -> None:
    """Runs a command with its output in ``log``; with ``progress``, echoes each training log line as one short
    line (position, loss, ETA). On failure shows the end of the log and stops."""
    with open(log, 'w') as file, subprocess.Popen([str(a) for a in args], cwd=ROOT, stdout=subprocess.PIPE,
                                                  stderr=subprocess.STDOUT, text=True) as process:
        for line in process.stdout:
            file.write(line)
            found = TRAIN_LOG_LINE.search(line) if progress else None
            if found:
                loss, eta = LOSS.search(line), ETA.search(line)
                print(f"  {found.group(1)} {found.group(2)}  loss {loss.group(1) if loss else '-'}  "
                      f"eta {eta.group(1) if eta else '-'}", flush=True)
    if process.returncode != 0:
        sys.exit(f"{' '.join(map(str, args))} failed (exit {process.returncode}); the end of {log}:\n"
                 + log.read_text()[-3000:])


def shown(metrics: dict, key: str) -> str:
    # mmdet's CocoMetric reports nothing when a model detects nothing at all, as an untrained one may.
    return f'{metrics[key]:.3f}' if key in metrics else 'no dets'


def write_stand_in_imagenet_checkpoint(path: Path) -> None:
    """UniFormer-S as initialised (the release's initialisation: truncated normal 0.02 for linear layers),
    saved in the release's ImageNet layout, ``{'model': ...}`` with its 1000-way ``head``."""
    from mmengine.model.weight_init import trunc_normal_

    from uniformer_mm import UniFormer2D
    torch.manual_seed(0)
    state_dict = dict(UniFormer2D(arch='small', out_indices=(3, ), out_norm='batch').state_dict())
    head = nn.Linear(512, 1000)
    trunc_normal_(head.weight, std=.02)
    nn.init.zeros_(head.bias)
    state_dict.update({'head.weight': head.weight.detach(), 'head.bias': head.bias.detach()})
    torch.save(dict(model=state_dict), path)


def write_stand_in_kinetics_checkpoint(path: Path, trained: Path) -> None:
    """The backbone of ``trained`` (an mmaction2 checkpoint of the S toy-motion recipe) saved in the release's
    Kinetics-400 layout, ``{'model_state': ...}`` with a 400-way ``head`` as initialised.

    Args:
        path (Path): Where to write it.
        trained (Path): The mmaction2 checkpoint whose backbone to take.
    """
    from uniformer_mm import UniFormer3D
    from uniformer_mm.checkpoint_safety import load_checkpoint_file
    trained_state = load_checkpoint_file(trained)['state_dict']
    state_dict = {key[len('backbone.'):]: value for key, value in trained_state.items() if key.startswith('backbone.')}
    expected = UniFormer3D(arch='small').state_dict()
    if {k: v.shape for k, v in state_dict.items()} != {k: v.shape for k, v in expected.items()}:
        sys.exit(f'{trained} does not hold a UniFormer-S 3D backbone ({len(state_dict)} backbone tensors, '
                 f'{len(expected)} expected)')
    torch.manual_seed(0)
    head = nn.Linear(512, 400)
    state_dict.update({'head.weight': head.weight.detach(), 'head.bias': head.bias.detach()})
    torch.save(dict(model_state=state_dict), path)


def video_stand_in(work_dir: Path, mim: Path) -> Path:
    """Trains the toy-motion recipe from scratch on the pre-training clips and saves its backbone in the release's
    Kinetics-400 layout; returns that file."""
    data, generator = PRETRAIN_VIDEO_DATA
    if not data.exists():
        run([sys.executable, *generator, data], work_dir / 'generate_pretrain.log')
    print(f'pre-training a stand-in for uniformer_small_k400_16x8 on {data.relative_to(ROOT)} (mim train):',
          flush=True)
    options = []
    for loader, split in (('train_dataloader', 'train'), ('val_dataloader', 'val')):
        options += [f'{loader}.dataset.ann_file={data}/{split}.txt',
                    f'{loader}.dataset.data_prefix.img={data}/rawframes']
    run([mim, 'train', 'mmaction', PRETRAIN_VIDEO_CONFIG, '--work-dir', work_dir / 'pretrain', '--cfg-options',
         *options], work_dir / 'pretrain.log', progress=True)
    stand_in = work_dir / 'uniformer_small_k400_16x8_stand_in.pth'
    write_stand_in_kinetics_checkpoint(stand_in, Path((work_dir / 'pretrain' / 'last_checkpoint').read_text().strip()))
    return stand_in


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('task', nargs='?', choices=sorted(TASKS), default='pose')
    parser.add_argument('--pretrained', help="cls / video: the checkpoint to fine-tune from (a path, or 'stand-in'); "
                        'default for cls: the released uniformer_small_in1k')
    args = parser.parse_args()
    if args.pretrained and args.task not in ('cls', 'video'):
        parser.error('--pretrained is for the cls and video tasks')
    if args.task == 'video' and not args.pretrained:
        parser.error("video needs --pretrained: the release's uniformer_small_k400_16x8.pth (docs/checkpoints.md) or "
                     'stand-in')
    codebase, config, metric_keys = TASKS[args.task]
    work_dir = ROOT / 'work_dirs' / f'toy_demo_{args.task}'
    work_dir.mkdir(parents=True, exist_ok=True)
    mim = Path(sys.executable).parent / 'mim'

    data, generator = DATA.get(args.task, DATA['dense'])
    if not data.exists():
        run([sys.executable, *generator, data], work_dir / 'generate.log')
    options = []
    if args.pretrained == 'stand-in' and args.task == 'cls':
        args.pretrained = work_dir / 'uniformer_small_in1k_stand_in.pth'
        write_stand_in_imagenet_checkpoint(args.pretrained)
        print(f'fine-tuning from a stand-in for uniformer_small_in1k: {args.pretrained.relative_to(ROOT)}')
    elif args.pretrained == 'stand-in':
        args.pretrained = video_stand_in(work_dir, mim)
    if args.task == 'video':
        # The fine-tune config reads the converted file; the release's own layout goes through the converter.
        converted = work_dir / 'uniformer3d-s_k400.pth'
        run([sys.executable, 'tools/convert_checkpoint.py', 'slowfast-video', args.pretrained, converted],
            work_dir / 'convert.log')
        args.pretrained = converted
    if args.pretrained:
        options = ['--cfg-options', f'model.backbone.init_cfg.checkpoint={args.pretrained}']
    print(f'{args.task}: {config} on {data.relative_to(ROOT)} (logs in {work_dir.relative_to(ROOT)}/)', flush=True)

    # Untrained: the fine-tuned video model starts from motion features that a random head reads out as well as
    # not at all, so its baseline is the network as initialised; the image one keeps the ImageNet backbone.
    untrained_options = ['--cfg-options', 'model.backbone.init_cfg=None'] if args.task == 'video' else options
    run([sys.executable, 'tools/test.py', config, '--work-dir', work_dir / 'untrained', *untrained_options],
        work_dir / 'untrained.log')
    untrained = newest_test_metrics(work_dir / 'untrained')

    start = time.perf_counter()
    print('training (mim train):', flush=True)
    run([mim, 'train', codebase, config, '--work-dir', work_dir / 'train', *options], work_dir / 'train.log',
        progress=True)
    minutes = (time.perf_counter() - start) / 60
    checkpoint = (work_dir / 'train' / 'last_checkpoint').read_text().strip()
    run([mim, 'test', codebase, config, '--checkpoint', checkpoint, '--work-dir', work_dir / 'test', *options],
        work_dir / 'test.log')
    trained = newest_test_metrics(work_dir / 'test')

    print(f'trained for {minutes:.1f} min (mim train), evaluated {Path(checkpoint).name} (mim test)')
    print(f"| {'metric':<14} | untrained | trained |")
    print(f"|{'-' * 16}|-----------|---------|")
    for key in metric_keys:
        print(f'| {key:<14} | {shown(untrained, key):>9} | {shown(trained, key):>7} |')


if __name__ == '__main__':
    main()
