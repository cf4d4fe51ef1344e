"""Evaluates any shipped config (mmdet, mmseg, mmpose, mmaction2 or mmpretrain) with mmengine's Runner.

With a checkpoint (``tools/test.py CONFIG CHECKPOINT``, or ``--checkpoint CHECKPOINT`` as ``mim test`` passes
it) this is what ``mim test`` does. Without one, the model is evaluated as initialised (``init_weights``, i.e.
what training would start from): the untrained baseline a toy training must beat. ``--tta`` tests with the
config's test-time augmentation (mmseg's multi-scale and flip test on ADE20K).
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
    parser.add_argument('checkpoint', nargs='?', help='weights to evaluate; none evaluates the initialised model')
    parser.add_argument('--checkpoint', dest='checkpoint_option', metavar='CHECKPOINT',
                        help="the same, as mim test passes it")
    parser.add_argument('--tta', action='store_true',
                        help="test-time augmentation: the config's tta_pipeline and tta_model (mmseg's ADE20K "
                             'multi-scale and flip test, behind the published multi-scale mIoU)')
    parser.add_argument('--work-dir', help='defaults to work_dirs/{config name}')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='key=value overrides of the config')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    add_inference_speed_arguments(parser)
    args = parser.parse_args()
    if args.checkpoint and args.checkpoint_option and args.checkpoint != args.checkpoint_option:
        parser.error(f'two checkpoints given: {args.checkpoint} and --checkpoint {args.checkpoint_option}')
    args.checkpoint = args.checkpoint or args.checkpoint_option
    return args


def use_test_time_augmentation(cfg) -> None:
    """Evaluates through the config's ``tta_model`` on its ``tta_pipeline``, as the codebases' ``--tta`` does."""
    missing = [key for key in ('tta_model', 'tta_pipeline') if key not in cfg]
    if missing:
        raise SystemExit(f'--tta needs {" and ".join(missing)} in the config (mmseg configs inherit them from '
                         "mmseg's dataset bases); this one has none")
    cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
    cfg.tta_model.module = cfg.model
    cfg.model = cfg.tta_model


def main() -> None:
    args = parse_args()
    cfg = load_run_config(args.config, args.work_dir, args.cfg_options)
    cfg.load_from = args.checkpoint
    if args.tta:
        use_test_time_augmentation(cfg)
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
