"""What export_onnx rewrites after torch's exporter: a LayerNorm over the channels of a (B, C, ...) map, which
PyTorch writes between two transposes of the whole map, is exported along axis 1 with no transpose, computing
what PyTorch computes to float rounding; other LayerNorms are left as they are."""
import numpy as np
import onnx
import pytest
import torch
import torch.nn as nn

from uniformer_mm.deployment import export_onnx
from uniformer_mm.models.backbones.uniformer import ChannelsFirstLayerNorm

from helpers import onnx_runner

pytest.importorskip('onnxruntime')


def export_and_run(module: nn.Module, inputs: torch.Tensor, path) -> tuple:
    """The exported file's operator types and its ONNX Runtime output on ``inputs``."""
    export_onnx(module.eval(), inputs, path)
    output = onnx_runner(path, 'onnxruntime')(inputs.numpy())[0]
    return [node.op_type for node in onnx.load(str(path)).graph.node], output


@pytest.mark.parametrize('shape', [(2, 8, 5, 7), (2, 8, 3, 5, 7)], ids=['image', 'video'])
def test_a_layer_norm_over_channels_exports_along_axis_1_without_transposes(tmp_path, shape):
    norm = ChannelsFirstLayerNorm(8, eps=1e-6)
    with torch.no_grad():
        norm.weight.normal_()
        norm.bias.normal_()
    # Far from zero mean: the variance is taken of the centred map, not as E[x^2] - E[x]^2.
    inputs = torch.randn(shape) * 3 + 100
    op_types, output = export_and_run(norm, inputs, tmp_path / 'norm.onnx')
    assert 'Transpose' not in op_types and 'LayerNormalization' not in op_types, op_types
    assert op_types.count('ReduceMean') == 2
    with torch.no_grad():
        expected = norm(inputs).numpy()
    assert np.abs(output - expected).max() < 1e-4 * np.abs(expected).max()


class TokensLayerNorm(nn.Module):
    """A LayerNorm over channels whose result stays channels last (as the attention blocks' tokens do)."""

    def __init__(self):
        super().__init__()
        self.norm = nn.LayerNorm(8)

    def forward(self, x):
        return self.norm(x.permute(0, 2, 3, 1))


def test_a_layer_norm_that_stays_channels_last_is_left_alone(tmp_path):
    module = TokensLayerNorm()
    inputs = torch.randn(2, 8, 5, 7)
    op_types, output = export_and_run(module, inputs, tmp_path / 'tokens.onnx')
    assert op_types.count('LayerNormalization') == 1 and 'ReduceMean' not in op_types, op_types
    with torch.no_grad():
        np.testing.assert_allclose(output, module(inputs).numpy(), rtol=1e-5, atol=1e-5)
