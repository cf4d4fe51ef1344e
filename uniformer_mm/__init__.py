"""UniFormer backbones for OpenMMLab 2.0.

Importing this package (``custom_imports=dict(imports=['uniformer_mm'])`` in a config) does three things beyond
defining its classes:

- registers the backbones and heads in mmengine's root ``MODELS`` registry, visible from mmdet, mmseg, mmpose,
  mmpretrain and mmaction2;
- routes every prefix of mmengine's ``CheckpointLoader`` (local paths, http(s), ``open-mmlab://`` and the other
  model-zoo prefixes, ``s3://``) through the checkpoint reader of :mod:`uniformer_mm.checkpoint_safety`, and
  replaces ``CheckpointLoader.load_checkpoint`` with one that refuses prefixes registered later by other code
  (:mod:`uniformer_mm.checkpoint_routes`; ``restore_mmengine_loaders()`` there is the opt-out);
- teaches mmengine's FLOP counter attention (:mod:`uniformer_mm.analysis`).
"""
import sys

from . import engine  # noqa: F401  (registers CPUDistributedDataParallel for configs' model_wrapper_cfg)
from .analysis import register_attention_flops
from .checkpoint_routes import install_checkpoint_loaders
from .checkpoint_safety import CheckpointFileError
from .models import CheckpointMismatchError, UniFormer2D, UniFormer3D
from .version import __version__

__all__ = ['UniFormer2D', 'UniFormer3D', 'CheckpointMismatchError', 'CheckpointFileError', '__version__']

install_checkpoint_loaders()
register_attention_flops()
if 'mmdeploy' in sys.modules:  # an mmdeploy tool is converting a model of ours: register our rewriters
    from .deployment import mmdeploy_compat  # noqa: F401
