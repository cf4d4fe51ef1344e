from .checkpoint_loading import CheckpointMismatchError
from .uniformer import UniFormer2D

__all__ = ['UniFormer2D', 'CheckpointMismatchError']
