"""UniFormer backbones for OpenMMLab 2.0.

Importing this package (``custom_imports=dict(imports=['uniformer_mm'])`` in a config) registers the backbones
in mmengine's root ``MODELS`` registry, visible from mmdet, mmseg, mmpose and mmaction2, and makes mmengine's
checkpoint loader read local files and URLs under the policy of :mod:`uniformer_mm.checkpoint_safety`, and
teaches mmengine's FLOP counter attention (:mod:`uniformer_mm.analysis`).
"""
import sys

from . import engine  # noqa: F401  (registers CPUDistributedDataParallel for configs' model_wrapper_cfg)
from .analysis import register_attention_flops
from .checkpoint_safety import CheckpointFileError, install_checkpoint_loaders
from .models import CheckpointMismatchError, UniFormer2D, UniFormer3D
from .version import __version__

__all__ = ['UniFormer2D', 'UniFormer3D', 'CheckpointMismatchError', 'CheckpointFileError', '__version__']

install_checkpoint_loaders()
register_attention_flops()
if 'mmdeploy' in sys.modules:  # an mmdeploy tool is converting a model of ours: register our rewriters
    from .deployment import mmdeploy_compat  # noqa: F401
