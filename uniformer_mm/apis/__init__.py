"""What the scripts under ``tools/`` and ``demo/`` share: running shipped configs, the fast inference path,
converting official checkpoints, counting FLOPs as the release did, reading the metafiles.

Imported explicitly (``from uniformer_mm.apis import ...``); ``import uniformer_mm`` does not import it.
"""
from .complexity import ModelComplexity, count_complexity, format_gflops
from .convert import (class_order, imagenet_to_mmpretrain, openmmlab1_to_openmmlab2, read_class_names,
                      slowfast_video_to_mmaction)
from .inference import (add_inference_speed_arguments, describe_inference_path, speed_up_for_inference,
                        speed_up_from_args)
from .model_zoo import load_metafile_models
from .runs import build_model_from_config, load_run_config, newest_test_metrics

__all__ = [
    'load_run_config', 'build_model_from_config', 'newest_test_metrics', 'add_inference_speed_arguments',
    'speed_up_for_inference', 'speed_up_from_args', 'describe_inference_path', 'read_class_names', 'class_order',
    'slowfast_video_to_mmaction', 'openmmlab1_to_openmmlab2', 'imagenet_to_mmpretrain', 'ModelComplexity',
    'count_complexity', 'format_gflops', 'load_metafile_models'
]
