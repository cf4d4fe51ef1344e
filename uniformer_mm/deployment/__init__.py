"""Export of UniFormer models: ONNX through ``torch.export`` (:mod:`.onnx`)."""
from .onnx import ONNX_TRANSLATIONS, export_onnx

__all__ = ['ONNX_TRANSLATIONS', 'export_onnx']
