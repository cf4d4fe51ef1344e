"""Comparing an exported or quantized model's outputs with PyTorch's: one measure for every deployment tool."""
from typing import List, Sequence

import numpy as np
import torch
import torch.nn as nn


def relative_errors(outputs: Sequence, expected: Sequence) -> List[float]:
    """The relative error of each output, ``max |output - expected| / max |expected|``.

    Args:
        outputs (Sequence): The deployed model's outputs (arrays or tensors), in order.
        expected (Sequence): PyTorch's outputs for the same input, in the same order.

    Raises:
        ValueError: The counts or shapes differ, or either side holds NaN or inf (a comparison with NaN is never
            "too large", so it must fail here rather than pass a threshold check).
    """
    if len(outputs) != len(expected):
        raise ValueError(f'{len(outputs)} outputs to compare with {len(expected)} expected')
    errors = []
    for index, (output, reference) in enumerate(zip(outputs, expected)):
        output, reference = _as_array(output), _as_array(reference)
        if output.shape != reference.shape:
            raise ValueError(f'output {index} has shape {output.shape}, expected {reference.shape}')
        check_finite([output], 'output', first_index=index)
        check_finite([reference], 'expected output', first_index=index)
        errors.append(float(np.abs(output - reference).max() / max(float(np.abs(reference).max()), 1e-12)))
    return errors


def check_finite(values: Sequence, name: str = 'output', where: str = '', first_index: int = 0) -> None:
    """Raises when one of ``values`` (arrays or tensors) holds NaN or inf, saying which and how many.

    Args:
        values (Sequence): The outputs, in order.
        name (str): What they are, for the message ('output', 'PyTorch output').
        where (str): Appended to the name of the failing one, e.g. ' at input (1, 3, 64, 64)'.
        first_index (int): The index of ``values[0]`` in the message.

    Raises:
        ValueError: ``{name} {index}{where} holds NaN or inf (n NaN, m inf of k values)``.
    """
    for index, value in enumerate(values, start=first_index):
        array = _as_array(value)
        if not np.isfinite(array).all():
            raise ValueError(f'{name} {index}{where} holds NaN or inf ({np.isnan(array).sum()} NaN, '
                             f'{np.isinf(array).sum()} inf of {array.size} values)')


def untie_token_scores_(backbone: nn.Module) -> nn.Module:
    """Makes an untrained light UniFormer rank its tokens as a trained one does, in place, for benchmarks that
    compare runtimes on random weights; other backbones are left as they are.

    Untrained, the class token is zero (as initialised in the release), so its query is zero and every token score
    of the first pruning block ties exactly, and random qkv projections attend almost uniformly, so later scores
    nearly tie. Runtimes break such ties differently (OpenVINO's TopK is not stable) and keep other tokens, and an
    output comparison would then measure tie-breaking, not the runtime. A drawn class token (std 0.02, seeded) and
    qkv projections scaled by 6 (sharper attention) make the scores distinct; the computation is unchanged.

    Args:
        backbone (nn.Module): A UniFormer backbone (``light`` archs are changed) or any other module.
    """
    if not getattr(backbone, 'light', False):
        return backbone
    with torch.no_grad():
        nn.init.trunc_normal_(backbone.cls_token, std=.02, generator=torch.Generator().manual_seed(0))
        for name, param in backbone.named_parameters():
            if name.endswith('attn.qkv.weight'):
                param.mul_(6)
    return backbone


def _as_array(value) -> np.ndarray:
    if hasattr(value, 'detach'):
        value = value.detach().float().cpu().numpy()
    return np.asarray(value, dtype=np.float64)
