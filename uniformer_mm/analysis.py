"""Teaches mmengine's FLOP counter the attention of ``scaled_dot_product_attention``.

mmengine's ``FlopAnalyzer`` (behind ``get_model_complexity_info`` and the codebases' ``get_flops`` tools) counts
the operators of a traced graph it has a formula for, and skips ``aten::scaled_dot_product_attention``: the video
UniFormer-S 16x4 came out at 28.7G instead of the published 41.8G. Importing uniformer_mm adds the formula to the
analyzer's default table (only where mmengine has none), counted like its matmuls: multiply-accumulates.
"""
from typing import Any, List

from mmengine.analysis import complexity_analysis
from mmengine.analysis.jit_handles import get_shape


def sdpa_flop_jit(inputs: List[Any], outputs: List[Any]) -> int:
    """Multiply-accumulates of attention on (..., L, E) queries and (..., S, E) keys / (..., S, Ev) values:
    ``L S E`` for the scores and ``L S Ev`` for their product with the values, per leading index."""
    query, key, value = (get_shape(v) for v in inputs[:3])
    *leading, length, width = query
    source, value_width = key[-2], value[-1]
    batch = 1
    for size in leading:
        batch *= size
    return batch * length * source * (width + value_width)


def register_attention_flops() -> None:
    complexity_analysis._DEFAULT_SUPPORTED_FLOP_OPS.setdefault('aten::scaled_dot_product_attention', sdpa_flop_jit)
