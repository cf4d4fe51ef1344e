"""The precision options of the inference path (``uniformer_mm.apis.speed_up_for_inference``): what the CPU
runs natively, bf16 / fp16 autocast of the backbone with float32 outputs, OpenVINO in each precision, int8 by
NNCF, and the refusals."""
import argparse

import pytest
import torch
import torch.nn as nn

from uniformer_mm import UniFormer2D, UniFormer3D
from uniformer_mm.apis import add_inference_speed_arguments
from uniformer_mm.apis import precision as precision_module
from uniformer_mm.apis import speed_up_for_inference
from uniformer_mm.apis.precision import (AutocastBackbone, check_precision_is_native, describe_cpu_support,
                                         native_instructions)

AMX_CPU = {'avx512f', 'amx_bf16', 'amx_int8', 'amx_tile', 'avx512_bf16', 'avx512_vnni'}
OLD_CPU = {'avx2', 'fma'}


def test_native_instructions_are_read_from_the_cpu_flags():
    assert native_instructions('bf16', AMX_CPU) == ['AMX-BF16', 'AVX512-BF16']
    assert native_instructions('int8', AMX_CPU) == ['AMX-INT8', 'AVX512-VNNI']
    assert native_instructions('fp16', AMX_CPU) == []
    assert 'bf16: emulated; fp16: emulated; int8: emulated' in describe_cpu_support(OLD_CPU)


def test_an_emulated_precision_is_refused_unless_allowed(monkeypatch):
    monkeypatch.setattr(precision_module, 'cpu_flags', lambda: OLD_CPU)
    with pytest.raises(ValueError, match=r'none of amx_bf16, avx512_bf16, so bf16 would be emulated.*--allow-emulated'):
        check_precision_is_native('bf16')
    check_precision_is_native('bf16', allow_emulated=True)
    check_precision_is_native('fp32')
    with pytest.raises(ValueError, match="unknown precision 'int4'"):
        check_precision_is_native('int4')


class Model(nn.Module):
    """What the tools hand over: an OpenMMLab model with a ``backbone``."""

    def __init__(self, backbone):
        super().__init__()
        self.backbone = backbone


@pytest.mark.parametrize('backbone, inputs', [
    (lambda: UniFormer2D(arch='xxs', with_cls_token=True), (1, 3, 64, 64)),
    (lambda: UniFormer3D(arch='small'), (1, 3, 4, 64, 64)),
], ids=['2d-xxs', '3d-small'])
def test_bf16_autocast_backbone_returns_float32_close_to_float32(backbone, inputs):
    torch.manual_seed(0)
    model = Model(backbone().eval())
    image = torch.randn(inputs)
    with torch.no_grad():
        expected = model.backbone(image)
        speed_up_for_inference(model, precision='bf16', allow_emulated=True)
        outputs = model.backbone(image)
    assert isinstance(model.backbone, AutocastBackbone) and model.backbone.arch == model.backbone.backbone.arch
    for output, reference in zip(*(o if isinstance(o, tuple) else (o, ) for o in (outputs, expected))):
        assert output.dtype == torch.float32
        assert (output - reference).norm() / reference.norm() < 5e-2


def test_int8_on_the_pytorch_backend_says_where_it_runs():
    with pytest.raises(ValueError, match="int8 runs through OpenVINO"):
        speed_up_for_inference(Model(UniFormer2D(arch='xxs')), precision='int8', allow_emulated=True)


def test_the_tools_options_reach_the_inference_path():
    parser = argparse.ArgumentParser()
    add_inference_speed_arguments(parser)
    args = parser.parse_args(['--precision', 'bf16', '--backend', 'openvino', '--allow-emulated'])
    options = (args.precision, args.backend, args.allow_emulated, args.calibration_samples)
    assert options == ('bf16', 'openvino', True, 32)
    with pytest.raises(SystemExit):
        parser.parse_args(['--precision', 'half'])


# S's widths with one local block per stage and four attention blocks in stage 3, hybrid: window blocks and a global
# one, as in S-h14, at a third of S-h14's export time.
HYBRID = dict(depths=(1, 1, 4, 1), embed_dims=(64, 128, 320, 512), head_dim=64)


@pytest.mark.slow
@pytest.mark.parametrize('precision, tolerance', [('fp32', 1e-5), ('bf16', 5e-2), ('int8', 1e-1)])
def test_openvino_backbone_in_each_precision_is_close_to_pytorch(precision, tolerance):
    torch.manual_seed(0)
    model = Model(UniFormer2D(arch=HYBRID, attn_mode='hybrid', window_size=4).eval())
    images = [torch.randn(1, 3, 96, 128) for _ in range(9)]
    with torch.no_grad():
        expected = model.backbone(images[0])
    calibration = images[1:] if precision == 'int8' else None
    speed_up_for_inference(model, precision=precision, backend='openvino', allow_emulated=True,
                           calibration=calibration)
    outputs = model.backbone(images[0])
    assert len(outputs) == 4
    for output, reference in zip(outputs, expected):
        assert output.dtype == torch.float32 and output.shape == reference.shape
        assert torch.isfinite(output).all()
        assert (output - reference).norm() / reference.norm() < tolerance, precision


def test_the_class_token_score_rows_are_found_in_a_file_of_dynamic_sizes():
    # OpenVINO infers the first-row slice of a dynamic file as an interval of at most one row (..1), not a static 1:
    # the rows were missed, and so quantized, until the check took the interval's upper bound.
    import openvino as ov
    import openvino.opset13 as ops
    from openvino import Dimension, PartialShape

    def matmul(rows):
        query = ops.parameter(PartialShape([-1, 8, rows, 28]), ov.Type.f32)
        keys = ops.parameter(PartialShape([-1, 8, 28, -1]), ov.Type.f32)
        return ops.matmul(query, keys, False, False).output(0).get_node()

    assert precision_module._is_score_row(matmul(Dimension(0, 1)))
    assert precision_module._is_score_row(matmul(Dimension(1)))
    assert not precision_module._is_score_row(matmul(Dimension(-1)))
    assert not precision_module._is_score_row(matmul(Dimension(50)))


def test_collect_backbone_inputs_records_what_the_backbone_receives():
    seen = []
    model = Model(nn.Identity())
    model.test_step = lambda batch: seen.append(model.backbone(batch))
    inputs = precision_module.collect_backbone_inputs(model, (torch.full((1, 3), float(i)) for i in range(5)), 3)
    assert [t[0, 0].item() for t in inputs] == [0, 1, 2] and len(seen) == 3
    with pytest.raises(ValueError, match='no batch to calibrate on'):
        precision_module.collect_backbone_inputs(model, [], 3)


def test_calibration_leaves_a_training_model_and_its_statistics_as_they_were():
    # A Runner builds its model in training mode: calibrating there moved the BatchNorm statistics that int8 then
    # folded (the toy classifier lost 4 to 8 top-1 points through tools/test.py, none outside it).
    model = Model(nn.BatchNorm1d(3))
    model.test_step = lambda batch: model.backbone(batch)
    model.train()
    before = {name: value.clone() for name, value in model.state_dict().items()}
    precision_module.collect_backbone_inputs(model, [torch.randn(4, 3) * 5 + 3 for _ in range(3)], 3)
    assert model.training and model.backbone.training
    for name, value in model.state_dict().items():
        assert torch.equal(value, before[name]), name


def test_int8_keeps_depthwise_convolutions_out_and_quantizes_activations_per_tensor():
    # UniFormer's position embedding: channels-last tokens (after a LayerNorm, or after attention) transposed to
    # channels first for a depthwise convolution, then back to tokens for a matmul. The depthwise convolution runs
    # in bf16 / float32 whatever its input, and with its identity folded in (switch_to_deploy) a quantized input
    # would put int8 rounding on the residual stream. NNCF also gave that input one range per channel before the
    # Transpose, still on axis 1: one range per image row (14 here), so a file of dynamic sizes failed on any other
    # height ("Check 'input_shape[j] == 1' failed").
    import numpy as np
    import openvino as ov
    import openvino.opset13 as ops

    rng = np.random.default_rng(0)
    tokens = ops.parameter(ov.PartialShape([1, -1, -1, 8]), ov.Type.f32)
    normed = ops.add(tokens, ops.constant(rng.standard_normal(8).astype(np.float32)))
    channels_first = ops.transpose(normed, ops.constant(np.array([0, 3, 1, 2])))
    kernel = ops.constant(rng.standard_normal((8, 1, 1, 3, 3)).astype(np.float32))
    depthwise = ops.group_convolution(channels_first, kernel, [1, 1], [1, 1], [1, 1], [1, 1])
    channels_last = ops.transpose(depthwise, ops.constant(np.array([0, 2, 3, 1])))
    projected = ops.matmul(channels_last, ops.constant(rng.standard_normal((8, 16)).astype(np.float32)), False, False)
    model = ov.Model([projected.output(0)], [tokens])

    quantized = precision_module.quantize_openvino(model, [torch.randn(1, 14, 14, 8) for _ in range(3)])
    operations = {op.get_type_name(): op for op in quantized.get_ordered_ops()}
    depthwise_input = operations['GroupConvolution'].input_value(0).get_node()
    assert depthwise_input.get_type_name() == 'Transpose'
    assert depthwise_input.input_value(0).get_node().get_type_name() != 'FakeQuantize'
    ranges = [op.input_value(1).get_node().get_data() for op in quantized.get_ordered_ops()
              if op.get_type_name() == 'FakeQuantize' and op.input_value(0).get_node().get_type_name() != 'Constant']
    assert len(ranges) == 1 and ranges[0].size == 1, [r.shape for r in ranges]  # the matmul's input, one range
    compiled = ov.Core().compile_model(quantized, 'CPU')
    assert compiled(np.ones((1, 20, 12, 8), np.float32))[0].shape == (1, 20, 12, 16)


@pytest.mark.parametrize('precision, dtype', [('fp32', torch.float32), ('bf16', torch.bfloat16),
                                              ('int8', torch.int32)])
def test_reference_matmul_multiplies_in_its_precision(precision, dtype):
    # The benchmarks' "% of matmul peak" divides by this matmul's rate: a size x size product in that precision
    # (int8 accumulates into int32), of the same operands at every call.
    multiply = precision_module.reference_matmul(precision, size=32)
    product = multiply()
    assert product.shape == (32, 32) and product.dtype == dtype
    assert torch.equal(multiply(), product)
