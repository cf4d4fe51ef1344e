"""UniFormer backbones for OpenMMLab 2.0.

Importing this package (``custom_imports=dict(imports=['uniformer_mm'])`` in a config) registers the backbones
in mmengine's root ``MODELS`` registry, visible from mmdet, mmseg, mmpose and mmaction2, and makes mmengine's
checkpoint loader read local files and URLs under the policy of :mod:`uniformer_mm.checkpoint_safety`.
"""
from .checkpoint_safety import CheckpointFileError, install_checkpoint_loaders
from .models import CheckpointMismatchError, UniFormer2D, UniFormer3D

__version__ = '0.1.0'
__all__ = ['UniFormer2D', 'UniFormer3D', 'CheckpointMismatchError', 'CheckpointFileError']

install_checkpoint_loaders()
