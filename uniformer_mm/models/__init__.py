from .backbones import CheckpointMismatchError, UniFormer2D

__all__ = ['UniFormer2D', 'CheckpointMismatchError']
