from .backbones import CheckpointMismatchError, UniFormer2D, UniFormer3D
from .builder import build_model_from_config

__all__ = ['UniFormer2D', 'UniFormer3D', 'CheckpointMismatchError', 'build_model_from_config']
