"""The one measure deployment tools compare exported and quantized outputs with (uniformer_mm.deployment)."""
import numpy as np
import pytest
import torch

from uniformer_mm.deployment import relative_errors


def test_relative_error_is_max_difference_over_max_magnitude():
    expected = [torch.tensor([[1., -4.], [2., 0.]]), torch.tensor([10.])]
    outputs = [np.array([[1., -3.], [2., 0.5]]), np.array([10.])]
    assert relative_errors(outputs, expected) == [0.25, 0.]


@pytest.mark.parametrize('bad', [float('nan'), float('inf')])
@pytest.mark.parametrize('side', ['output', 'expected'])
def test_nan_or_inf_on_either_side_fails(bad, side):
    clean, broken = np.ones(4), np.array([1., bad, 1., 1.])
    outputs, expected = ([broken], [clean]) if side == 'output' else ([clean], [broken])
    with pytest.raises(ValueError, match='holds NaN or inf'):
        relative_errors(outputs, expected)


def test_counts_and_shapes_must_match():
    with pytest.raises(ValueError, match='2 outputs to compare with 1 expected'):
        relative_errors([np.ones(2), np.ones(2)], [np.ones(2)])
    with pytest.raises(ValueError, match=r'output 0 has shape \(3,\), expected \(2,\)'):
        relative_errors([np.ones(3)], [np.ones(2)])
