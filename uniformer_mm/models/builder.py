"""Building the model of any shipped config, whichever OpenMMLab codebase it belongs to."""
import importlib
from typing import Union

import torch.nn as nn
from mmengine.config import Config
from mmengine.registry import DefaultScope


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
