"""Evaluates any shipped config (mmdet, mmseg, mmpose, mmaction2 or mmpretrain) with mmengine's Runner.

With ``--checkpoint`` this is what ``mim test`` does. Without it, the model is evaluated as initialised
(``init_weights``, i.e. what training would start from): the untrained baseline a toy training must beat.
Distributed CPU-only runs work as in ``tools/train.py``. ``--deploy``, ``--compile``, ``--channels-last``,
``--precision`` (fp32, bf16, fp16, int8) and ``--backend`` (pytorch, openvino) take the fast CPU path
(docs/deployment.md); int8 calibrates on ``--calibration-samples`` training samples through the test pipeline.

Example:
    python tools/test.py configs/mmseg/toy/fpn_uniformer-s-h14_toy-shapes-160x160.py --work-dir work_dirs/untrained
"""
import argparse

from mmengine.config import DictAction
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

from uniformer_mm.apis import (add_inference_speed_arguments, describe_inference_path, load_run_config,
                               speed_up_from_args)
from uniformer_mm.engine import prepare_distributed


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config')
    parser.add_argument('--checkpoint', help='weights to evaluate; none evaluates the initialised model')
    parser.add_argument('--work-dir', help='defaults to work_dirs/{config name}')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='key=value overrides of the config')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    add_inference_speed_arguments(parser)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    cfg = load_run_config(args.config, args.work_dir, args.cfg_options)
    cfg.load_from = args.checkpoint
    prepare_distributed(cfg, args.launcher)
    runner = Runner.from_cfg(cfg)
    if args.checkpoint is None:
        runner.model.init_weights()
    # Load now (runner.test() then skips it) so that the fast path folds the loaded weights.
    runner.load_or_resume()
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    speed_up_from_args(model, args, cfg)
    runner.logger.info(describe_inference_path(args.precision, args.backend))
    runner.test()


if __name__ == '__main__':
    main()
