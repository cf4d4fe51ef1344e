"""Teaches mmengine's FLOP counter the attention of ``scaled_dot_product_attention``.

mmengine's ``FlopAnalyzer`` (behind ``get_model_complexity_info`` and the codebases' ``get_flops`` tools) counts
the operators of a traced graph it has a formula for, and skips ``aten::scaled_dot_product_attention``: the video
UniFormer-S 16x4 came out at 28.7G instead of the published 41.8G. The codebases' tools build their analyzer inside
``get_model_complexity_info``, so the only place a formula reaches them is mmengine's private default table,
``complexity_analysis._DEFAULT_SUPPORTED_FLOP_OPS``. Importing uniformer_mm adds the formula there, counted like
mmengine's matmuls (multiply-accumulates), under three conditions: the installed mmengine is a release whose table
is known (:data:`MMENGINE_WITH_KNOWN_FLOP_TABLE`), the table is a dict, and it has no formula for the operator yet.
Otherwise nothing is written and the FLOP counts leave attention out, as mmengine's do.
"""
from typing import Any, List

import mmengine
from mmengine.analysis import complexity_analysis
from mmengine.analysis.jit_handles import get_shape
from mmengine.utils import digit_version

# The mmengine releases whose private FLOP table was read (0.10.x; requirements/runtime.txt allows < 1.0).
MMENGINE_WITH_KNOWN_FLOP_TABLE = ('0.10.0', '0.11.0')
SDPA_OPERATOR = 'aten::scaled_dot_product_attention'


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


def register_attention_flops() -> bool:
    """Adds :func:`sdpa_flop_jit` to mmengine's default FLOP table where that is safe (see the module docstring).

    Returns:
        bool: Whether the analyzer now counts ``scaled_dot_product_attention`` with our formula.
    """
    low, high = (digit_version(v) for v in MMENGINE_WITH_KNOWN_FLOP_TABLE)
    table = getattr(complexity_analysis, '_DEFAULT_SUPPORTED_FLOP_OPS', None)
    if not low <= digit_version(mmengine.__version__) < high or not isinstance(table, dict):
        return False
    return table.setdefault(SDPA_OPERATOR, sdpa_flop_jit) is sdpa_flop_jit
