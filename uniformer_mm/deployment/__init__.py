"""Export of UniFormer models: ONNX through ``torch.export`` (:mod:`.onnx`), and the check of what was exported
(:mod:`.verification`)."""
from .onnx import ONNX_TRANSLATIONS, export_onnx, make_upsampling_traceable_
from .verification import check_finite, relative_errors, untie_token_scores_

__all__ = ['ONNX_TRANSLATIONS', 'export_onnx', 'make_upsampling_traceable_', 'check_finite', 'relative_errors',
           'untie_token_scores_']
