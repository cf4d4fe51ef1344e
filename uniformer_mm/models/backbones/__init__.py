from .checkpoint_loading import CheckpointMismatchError
from .uniformer import UniFormer2D, UniFormer3D

__all__ = ['UniFormer2D', 'UniFormer3D', 'CheckpointMismatchError']
