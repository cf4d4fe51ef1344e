"""Comparing an exported or quantized model's outputs with PyTorch's: one measure for every deployment tool."""
from typing import List, Sequence

import numpy as np


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
        for name, array in (('output', output), ('expected output', reference)):
            if not np.isfinite(array).all():
                raise ValueError(f'{name} {index} holds NaN or inf ({np.isnan(array).sum()} NaN, '
                                 f'{np.isinf(array).sum()} inf of {array.size} values)')
        errors.append(float(np.abs(output - reference).max() / max(float(np.abs(reference).max()), 1e-12)))
    return errors


def _as_array(value) -> np.ndarray:
    if hasattr(value, 'detach'):
        value = value.detach().float().cpu().numpy()
    return np.asarray(value, dtype=np.float64)
