"""UniFormer backbones for OpenMMLab 2.0.

Importing this package (``custom_imports=dict(imports=['uniformer_mm'])`` in a config) registers the backbones
in mmengine's root ``MODELS`` registry, visible from mmdet, mmseg, mmpose and mmaction2, and allow-lists the
types of mmengine's own checkpoints for ``torch.load(weights_only=True)``.
"""
from .checkpoint_safety import allow_mmengine_checkpoints
from .models import CheckpointMismatchError, UniFormer2D, UniFormer3D

__version__ = '0.1.0'
__all__ = ['UniFormer2D', 'UniFormer3D', 'CheckpointMismatchError', 'allow_mmengine_checkpoints']

allow_mmengine_checkpoints()
