"""Classification heads for the codebases' own classifiers.

They subclass the codebases' head classes, so this package imports mmpretrain: configs that use a head here
import it next to the backbones, ``custom_imports=dict(imports=['uniformer_mm', 'uniformer_mm.models.heads'])``,
and processes that never build one (mmdet, mmseg, ...) do not pay for importing mmpretrain.
"""
from .token_labeling_head import TokenLabelingClsHead

__all__ = ['TokenLabelingClsHead']
