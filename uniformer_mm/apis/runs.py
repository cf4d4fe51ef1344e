"""Running shipped configs: loading a config, building its model in its codebase, and reading back the metrics a
test run wrote."""
import importlib
import json
from pathlib import Path
from typing import Optional, Union

import torch.nn as nn
from mmengine.config import Config
from mmengine.registry import DefaultScope


def load_run_config(config: str, work_dir: Optional[str] = None, cfg_options: Optional[dict] = None) -> Config:
    """Loads a config with ``--cfg-options`` overrides and a work dir, as the codebases' ``tools/train.py`` do.

    Args:
        config: The config file.
        work_dir: Where the run writes; default the config's ``work_dir``, else ``work_dirs/{config name}``.
        cfg_options: ``key=value`` overrides, as ``DictAction`` parses ``--cfg-options``.
    """
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

    Args:
        work_dir: The ``--work-dir`` of the test runs.
        key: A metric the run must have reported, e.g. ``'mIoU'``.

    Raises:
        FileNotFoundError: No test run in ``work_dir`` reported ``key``.
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
