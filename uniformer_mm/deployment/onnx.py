"""ONNX export of UniFormer models through ``torch.export`` (the dynamo exporter), with dynamic sizes.

The backbones are written so that an exported graph computes everything shape-dependent (input padding to
multiples of 32, window padding, the number of tokens the light models keep) from its input, so one file serves
every size. :data:`ONNX_TRANSLATIONS` supplies the two operators the exporter lacks or freezes: the stable sort that
ranks the light models' tokens (ONNX ``TopK``, whose specification breaks ties by the lower index first, exactly a
stable sort) and adaptive average pooling (UPerHead), whose bins must follow the input's size. After export,
:class:`ChannelLayerNormWithoutTransposes` rewrites the LayerNorms over the channels of a map (the patch
embeddings', the stage outputs') to normalise along axis 1 instead of between two transposes.
"""
import logging
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from onnxscript import ir
from onnxscript import opset18 as op
from onnxscript.rewriter import MatchResult, RewriteRuleClassBase, rewrite

# Dynamic exports trace at this size whatever the example's: torch.export specialises dimensions whose traced size
# is 1 (and then silently computes wrong results at other sizes), so no dimension, input or intermediate, may be 1
# there. At 352x480 stage 3 is 22x30 (2x3 windows of 14, both padded) and stage 4 11x15; 8 frames give 4 after the
# video stem. Tracing runs on fake tensors, so the size costs no compute.
TRACE_BATCH, TRACE_FRAMES, TRACE_HEIGHT, TRACE_WIDTH = 2, 8, 352, 480


def _sort_stable(self: Any, stable: Optional[bool] = None, dim: int = -1, descending: bool = False):
    """``aten.sort.stable`` as ONNX TopK over the whole dimension (ties: lower index first, as a stable sort)."""
    dim = dim % len(self.shape)
    length = op.Shape(self, start=dim, end=dim + 1)
    return op.TopK(self, length, axis=dim, largest=int(descending), sorted=1)


def _bin_edges(length: Any, bins: int) -> Tuple[Any, Any]:
    """Start and end (exclusive) of the ``bins`` adaptive-pooling bins over ``length``, as int64 tensors:
    ``floor(i * L / bins)`` and ``ceil((i + 1) * L / bins)``."""
    index = op.Constant(value_ints=list(range(bins)))
    bins_tensor = op.Constant(value_ints=[bins])
    starts = op.Div(op.Mul(index, length), bins_tensor)
    ends = op.Div(op.Sub(op.Add(op.Mul(op.Add(index, op.Constant(value_ints=[1])), length), bins_tensor),
                         op.Constant(value_ints=[1])), bins_tensor)
    return starts, ends


def _adaptive_avg_pool2d(self: Any, output_size: Sequence[int]):
    """``aten.adaptive_avg_pool2d`` for any input size, through an integral image: each bin's sum is four
    lookups into the zero-padded 2D cumulative sum, so bins follow the input's size instead of the example's
    (the exporter's own decomposition gathers fixed indices)."""
    out_h, out_w = output_size
    integral = op.CumSum(op.CumSum(self, op.Constant(value_int=-2)), op.Constant(value_int=-1))
    integral = op.Pad(integral, op.Constant(value_ints=[0, 0, 1, 1, 0, 0, 0, 0]))
    rank = len(self.shape)
    height = op.Shape(self, start=rank - 2, end=rank - 1)
    width = op.Shape(self, start=rank - 1, end=rank)
    row_starts, row_ends = _bin_edges(height, out_h)
    col_starts, col_ends = _bin_edges(width, out_w)

    def corner(rows, cols):
        return op.Gather(op.Gather(integral, rows, axis=rank - 2), cols, axis=rank - 1)

    sums = op.Add(op.Sub(corner(row_ends, col_ends), corner(row_starts, col_ends)),
                  op.Sub(corner(row_starts, col_starts), corner(row_ends, col_starts)))
    areas = op.Mul(op.Unsqueeze(op.Sub(row_ends, row_starts), op.Constant(value_ints=[1])),
                   op.Sub(col_ends, col_starts))
    return op.Div(sums, op.CastLike(areas, self))


ONNX_TRANSLATIONS = {
    torch.ops.aten.sort.stable: _sort_stable,
    torch.ops.aten._adaptive_avg_pool2d.default: _adaptive_avg_pool2d,
}


class ChannelLayerNormWithoutTransposes(RewriteRuleClassBase):
    """``Transpose(LayerNormalization(Transpose(x, channels last), axis=-1), channels first)``, a LayerNorm over the
    channels of a (B, C, ...) map as PyTorch writes it (``ChannelsFirstLayerNorm``, the output norms), rewritten as
    the same normalisation along axis 1: mean and variance by ReduceMean, then the affine. The two transposes of the
    whole map go; OpenVINO takes 4 % less time on S-h14 at 800x1344 in bf16 (the output transposes ran in float32)
    and ONNX Runtime is no slower (docs/benchmarks.md). The statistics stay in float32, as the LayerNorm's
    ``stash_type`` asks, and the result differs from it by float rounding only."""

    def pattern(self, op, x, scale, bias, to_last, to_first, axis, epsilon, stash_type):
        normed = op.LayerNormalization(op.Transpose(x, perm=to_last), scale, bias, axis=axis, epsilon=epsilon,
                                       stash_type=stash_type)
        return op.Transpose(normed, perm=to_first)

    def check(self, context, x, scale, bias, to_last, to_first, axis, epsilon, stash_type) -> MatchResult:
        result = MatchResult()
        rank = len(to_last.as_ints())
        if tuple(to_last.as_ints()) != (0, *range(2, rank), 1):
            return result.fail('the first transpose does not bring channels last')
        if tuple(to_first.as_ints()) != (0, rank - 1, *range(1, rank - 1)):
            return result.fail('the second transpose does not bring channels back first')
        if axis.as_int() not in (-1, rank - 1) or stash_type.as_int() != ir.DataType.FLOAT:
            return result.fail('not a float32-statistics LayerNorm over the last axis')
        if x.dtype != ir.DataType.FLOAT:
            return result.fail('only float32 maps are rewritten')
        return result

    def rewrite(self, op, x, scale, bias, to_last, to_first, axis, epsilon, stash_type):
        rank = len(to_last.as_ints())
        channel_axis = op.Constant(value_ints=[1])
        spatial_axes = op.Constant(value_ints=list(range(1, rank - 1)))
        centred = op.Sub(x, op.ReduceMean(x, channel_axis))
        variance = op.ReduceMean(op.Mul(centred, centred), channel_axis)
        normed = op.Div(centred, op.Sqrt(op.Add(variance, op.Constant(value_float=epsilon.as_float()))))
        return op.Add(op.Mul(normed, op.Unsqueeze(scale, spatial_axes)), op.Unsqueeze(bias, spatial_axes))


def _dynamic_dims(rank: int) -> Dict[int, str]:
    """The dynamic dimensions of a (B, C, H, W) or (B, C, T, H, W) input and their names in the ONNX file."""
    names = ['batch', None, 'height', 'width'] if rank == 4 else ['batch', None, 'frames', 'height', 'width']
    return {index: name for index, name in enumerate(names) if name}


def make_upsampling_traceable_(network: nn.Module) -> int:
    """Replaces mmseg's ``Upsample`` modules of an integral scale factor with torch's ``nn.Upsample`` of the same
    factor, mode and corner alignment, in place, and returns how many.

    mmseg's computes its output size as ``int(size * factor)`` in Python, which ``torch.export`` specialises to the
    traced size: an FPN head exported that way gave 7e-2 relative error at 320x320 after a trace at 352x480. For an
    integral factor, interpolating by the factor samples exactly where interpolating to ``size * factor`` does.

    Args:
        network (nn.Module): A network about to be exported (mmseg's FPN heads hold such modules).
    """
    try:
        from mmseg.models.utils import Upsample
    except ImportError:
        return 0
    replaced = 0
    for parent in list(network.modules()):
        for name, child in list(parent.named_children()):
            factor = getattr(child, 'scale_factor', None)
            if (isinstance(child, Upsample) and not child.size and isinstance(factor, float)
                    and factor.is_integer()):
                setattr(parent, name, nn.Upsample(scale_factor=factor, mode=child.mode,
                                                  align_corners=child.align_corners))
                replaced += 1
    return replaced


class _UnsolvedInequalityFilter(logging.Filter):
    """Drops torch's report that sympy could not simplify a size inequality of the dynamic dimensions (the
    padding arithmetic's floor divisions): a warning with a ~190-line sympy traceback, after which torch keeps the
    inequality unsimplified and the export succeeds. The tools verify the exported file's outputs anyway."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != 'Failed to reduce inequalities'


@contextmanager
def _without_unsolved_inequality_reports():
    """Filters those reports out of torch's shape-solver logger during one export, and only there."""
    logger = logging.getLogger('torch.fx.experimental.symbolic_shapes')
    report_filter = _UnsolvedInequalityFilter()
    logger.addFilter(report_filter)
    try:
        yield
    finally:
        logger.removeFilter(report_filter)


def export_onnx(model: nn.Module,
                example_input: torch.Tensor,
                path: Union[str, Path],
                dynamic: bool = True,
                opset_version: int = 18) -> Tuple[str, ...]:
    """Exports ``model(example_input)`` to an ONNX file and returns its output names.

    Args:
        model (nn.Module): A module taking one tensor; exported in its current mode (call ``eval()`` first).
        example_input (torch.Tensor): An input of the expected layout, (B, C, H, W) or (B, C, T, H, W). With
            ``dynamic``, only its layout, channels and dtype count: the trace runs at a generic size (see
            ``TRACE_HEIGHT``) and the file serves any batch, frame count and size from 64x64 up.
        path (str | Path): Where the ``.onnx`` file goes.
        dynamic (bool): Make batch, frames (5D inputs), height and width dynamic. Defaults to True.
        opset_version (int): ONNX opset. Defaults to 18.
    """
    if example_input.dim() not in (4, 5):
        raise ValueError(f'expected a (B, C, H, W) or (B, C, T, H, W) example input, got {tuple(example_input.shape)}')
    dims = _dynamic_dims(example_input.dim())
    dynamic_shapes = None
    if dynamic:
        # Dim.DYNAMIC rather than named Dims: with named ones, torch 2.14's constraint solver fails on the
        # size arithmetic of some decode heads (UPerHead) while the traced graph is general.
        dynamic_shapes = ({index: torch.export.Dim.DYNAMIC for index in dims}, )
        frames = (TRACE_FRAMES, ) if example_input.dim() == 5 else ()
        example_input = torch.randn(TRACE_BATCH, example_input.shape[1], *frames, TRACE_HEIGHT, TRACE_WIDTH,
                                    dtype=example_input.dtype)
    with torch.no_grad(), _without_unsolved_inequality_reports():
        program = torch.export.export(model, (example_input, ), dynamic_shapes=dynamic_shapes, strict=False)
    onnx_program = torch.onnx.export(program, dynamo=True, optimize=True, opset_version=opset_version,
                                     custom_translation_table=ONNX_TRANSLATIONS, verbose=False)
    rewrite(onnx_program.model, pattern_rewrite_rules=[ChannelLayerNormWithoutTransposes.rule()])
    graph_input = onnx_program.model.graph.inputs[0]
    if dynamic:
        graph_input.shape = ir.Shape([dims.get(index, size) for index, size in enumerate(example_input.shape)])
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    onnx_program.save(str(path))
    return tuple(output.name for output in onnx_program.model.graph.outputs)
