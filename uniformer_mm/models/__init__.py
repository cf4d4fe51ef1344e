from .backbones import CheckpointMismatchError, UniFormer2D, UniFormer3D

__all__ = ['UniFormer2D', 'UniFormer3D', 'CheckpointMismatchError']
