"""What the tools share to run shipped configs: loading a config, building its model in its codebase, and reading
back the metrics a test run wrote. Imported by the scripts under ``tools/`` and ``demo/`` (and the tests)."""
import importlib
import json
from pathlib import Path
from typing import Optional, Union

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.registry import DefaultScope


def load_run_config(config: str, work_dir: Optional[str] = None, cfg_options: Optional[dict] = None) -> Config:
    """Loads a config with ``--cfg-options`` overrides and a work dir (default ``work_dirs/{config name}``)."""
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    cfg.work_dir = work_dir or cfg.get('work_dir') or str(Path('work_dirs') / Path(config).stem)
    return cfg


def build_model_from_config(config: Union[str, Config]) -> nn.Module:
    """Builds ``cfg.model`` in the config's ``default_scope`` (mmdet, mmseg, mmpose or mmaction).

    Args:
        config: A config file path or a loaded :class:`Config`.
    """
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    scope = cfg.get('default_scope')
    if scope is None:
        raise ValueError('the config sets no default_scope, so its codebase (mmdet, mmseg, ...) is unknown')
    importlib.import_module(f'{scope}.utils').register_all_modules(init_default_scope=False)
    registry = importlib.import_module(f'{scope}.registry').MODELS
    with DefaultScope.overwrite_default_scope(scope):
        return registry.build(cfg.model)


def newest_test_metrics(work_dir: Union[str, Path], key: Optional[str] = None) -> dict:
    """The metrics of the newest test run in a work dir that reported ``key`` (any metric when None).

    mmengine writes a test run's metrics as a JSON line to ``{work_dir}/{timestamp}/{timestamp}.json``; training
    runs log under ``{timestamp}/vis_data/`` instead, so only test runs count.
    """
    for log in sorted(Path(work_dir).glob('*/*.json'), reverse=True):
        if log.stem != log.parent.name:
            continue
        records = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
        records = [r for r in records if key is None or key in r]
        if records:
            return records[-1]
    raise FileNotFoundError(f"no test run in {work_dir} reported {key or 'metrics'} "
                            '(expected {timestamp}/{timestamp}.json, written by mim test / tools/test.py)')


def add_inference_speed_arguments(parser) -> None:
    """The options of the fast CPU path, shared by the tools and demos that run inference."""
    parser.add_argument('--deploy', action='store_true',
                        help="fold the backbone's BatchNorms and position-embedding identities (switch_to_deploy)")
    parser.add_argument('--compile', action='store_true', help='torch.compile the backbone (first batch compiles)')
    parser.add_argument('--channels-last', action='store_true', help='run the convolutions channels-last')


def speed_up_for_inference(model: nn.Module, deploy: bool = False, compile: bool = False,
                           channels_last: bool = False) -> nn.Module:
    """Applies the fast CPU path to a built model whose weights are loaded (in place; returns it).

    Args:
        model: An OpenMMLab model with a UniFormer ``backbone``.
        deploy: ``backbone.switch_to_deploy()``: inference only from then on.
        compile: Replace the backbone by ``torch.compile(backbone)`` (the detectors' and segmentors' heads have
            data-dependent post-processing, and the backbone is where the time goes).
        channels_last: Weights in channels-last layout (channels_last_3d for video), which the convolutions
            then propagate to their outputs.
    """
    if deploy:
        model.backbone.switch_to_deploy()
    if channels_last:
        for param in model.parameters():
            layout = {4: torch.channels_last, 5: torch.channels_last_3d}.get(param.dim())
            if layout is not None:
                param.data = param.data.contiguous(memory_format=layout)
    if compile:
        model.backbone = torch.compile(model.backbone)
    return model
