"""Trains any shipped config (mmdet, mmseg, mmpose, mmaction2 or mmpretrain) with mmengine's Runner.

The same as the codebases' own ``tools/train.py`` (which ``mim train`` runs) for the options below, plus
distributed runs on CPU-only machines (gloo), see :mod:`uniformer_mm.engine.distributed`. Use it through
``tools/dist_train.sh`` for several processes.

Example:
    python tools/train.py configs/mmseg/toy/fpn_uniformer-s-h14_toy-shapes-160x160.py --work-dir work_dirs/seg
"""
import argparse

from mmengine.config import DictAction
from mmengine.runner import Runner

from uniformer_mm.apis import load_run_config
from uniformer_mm.checkpoint_sources import check_pretrained_sources
from uniformer_mm.engine import prepare_distributed


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config')
    parser.add_argument('--work-dir', help='defaults to work_dirs/{config name}')
    parser.add_argument('--resume', nargs='?', const='auto',
                        help='resume from this checkpoint, or from the latest one in the work dir if none is given')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='key=value overrides of the config')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    cfg = load_run_config(args.config, args.work_dir, args.cfg_options)
    if args.resume is not None:
        cfg.resume = True
        cfg.load_from = None if args.resume == 'auto' else args.resume
    # A missing init_cfg checkpoint would otherwise stop the run only after the datasets are loaded.
    check_pretrained_sources(cfg.model)
    prepare_distributed(cfg, args.launcher)
    Runner.from_cfg(cfg).train()


if __name__ == '__main__':
    main()
