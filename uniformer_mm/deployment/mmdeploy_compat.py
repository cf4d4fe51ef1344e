"""What mmdeploy 1.3.1 needs to convert UniFormer models under the installed torch, as mmdeploy rewriters.

mmdeploy's ONNX pipeline is built on the TorchScript exporter: its symbolic rewriters, its custom ops (the
onnxruntime NMS, RoIAlign) and its graph passes all hook into it. Since torch 2.9 ``torch.onnx.export`` defaults to
the dynamo exporter, where none of that applies and mmdeploy's ``dynamic_axes`` no longer match the inputs'
structure. Its RoIAlign symbolic for onnxruntime imports a helper that torch has since removed. And its default
``adaptive_avg_pool2d`` rewriter replaces adaptive pooling with a fixed ``avg_pool2d`` whose kernel is
``floor(size / bins)``: at sizes the bins do not divide (the UPerNet pyramid pooling on a 16x20 map) that is another
computation, in PyTorch under the rewriter as in the file, and the kernel is frozen at the export size. The
rewriters below take effect only inside mmdeploy's ``RewriterContext`` and for the onnxruntime backend (the export
one for every backend), so nothing outside an mmdeploy conversion changes.

:mod:`uniformer_mm` imports this module when mmdeploy is already loaded, which is the case in every mmdeploy tool
(they import mmdeploy before reading the model config that imports uniformer_mm).
"""
import torch
from mmdeploy.core import FUNCTION_REWRITER, SYMBOLIC_REWRITER
from mmdeploy.utils import get_ir_config
from torch.onnx.symbolic_helper import _get_tensor_rank, parse_args

_ONNX_FLOAT, _ONNX_INT64 = 1, 7  # TensorProto.FLOAT, TensorProto.INT64


def _int64(g, values):
    return g.op('Constant', value_t=torch.tensor(values, dtype=torch.int64))


@FUNCTION_REWRITER.register_rewriter('torch.onnx.export')
def onnx_export__torchscript(*args, **kwargs):
    """``torch.onnx.export`` with the TorchScript exporter that mmdeploy's rewriters target, unless asked otherwise."""
    ctx = FUNCTION_REWRITER.get_context()
    kwargs.setdefault('dynamo', False)
    return ctx.origin_func(*args, **kwargs)


@SYMBOLIC_REWRITER.register_symbolic('mmcv.ops.roi_align.__self__', backend='onnxruntime')
def roi_align__onnxruntime(g, features, rois, output_size, spatial_scale: float, sampling_ratio: int,
                           pool_mode: str, aligned: bool):
    """mmcv's RoIAlign as ONNX ``RoiAlign``; ``rois`` are (K, 5) rows ``(batch index, x1, y1, x2, y2)``.

    mmcv's ``aligned`` shifts the scaled boxes by half a pixel and lets boxes be smaller than one pixel. From opset
    16 that is RoiAlign's ``half_pixel`` mode exactly. Before, RoiAlign has no such mode: the boxes are shifted
    here, and RoiAlign stretches boxes under one pixel to one pixel.
    """
    opset = get_ir_config(SYMBOLIC_REWRITER.get_context().cfg).get('opset_version', 11)
    batch_indices = g.op('Cast', g.op('Gather', rois, _int64(g, 0), axis_i=1), to_i=_ONNX_INT64)
    boxes = g.op('Gather', rois, _int64(g, [1, 2, 3, 4]), axis_i=1)
    extra = {}
    if opset >= 16:
        extra['coordinate_transformation_mode_s'] = 'half_pixel' if aligned else 'output_half_pixel'
    elif aligned:
        boxes = g.op('Sub', boxes, g.op('Constant', value_t=torch.tensor(0.5 / spatial_scale)))
    return g.op('RoiAlign', features, boxes, batch_indices, output_height_i=output_size[0],
                output_width_i=output_size[1], spatial_scale_f=spatial_scale, sampling_ratio_i=sampling_ratio,
                mode_s=pool_mode, **extra)


@FUNCTION_REWRITER.register_rewriter('torch.nn.functional.adaptive_avg_pool2d', backend='onnxruntime')
def adaptive_avg_pool2d__onnxruntime(input, output_size):
    """Adaptive average pooling itself (not mmdeploy's fixed-kernel replacement); exported by the symbolic below."""
    return FUNCTION_REWRITER.get_context().origin_func(input, output_size)


def _bin_edges(g, length, bins: int):
    """Start and end (exclusive) of ``bins`` adaptive-pooling bins over ``length`` (a 1-element int64 tensor):
    ``floor(i * L / bins)`` and ``ceil((i + 1) * L / bins)``."""
    index, count = _int64(g, list(range(bins))), _int64(g, [bins])
    starts = g.op('Div', g.op('Mul', index, length), count)
    ends = g.op('Div', g.op('Sub', g.op('Add', g.op('Mul', g.op('Add', index, _int64(g, [1])), length), count),
                            _int64(g, [1])), count)
    return starts, ends


@SYMBOLIC_REWRITER.register_symbolic('adaptive_avg_pool2d', is_pytorch=True, backend='onnxruntime')
@parse_args('v', 'is')
def adaptive_avg_pool2d__onnxruntime_symbolic(g, features, output_size):
    """``adaptive_avg_pool2d`` of a (..., H, W) map for any H, W, in opset-11 operators: each bin's sum is four
    lookups into the zero-padded 2D cumulative sum, with bin edges computed from the map's shape (the construction
    of :func:`uniformer_mm.deployment.onnx._adaptive_avg_pool2d`, which targets opset 18 and the dynamo exporter)."""
    rank = _get_tensor_rank(features)
    if rank is None:
        raise ValueError('exporting adaptive_avg_pool2d needs the rank of its input, which the trace did not record')
    height_axis, width_axis = rank - 2, rank - 1
    integral = g.op('CumSum', g.op('CumSum', features, _int64(g, height_axis)), _int64(g, width_axis))
    integral = g.op('Pad', integral, _int64(g, [0] * height_axis + [1, 1] + [0] * rank))
    shape = g.op('Shape', features)
    row_starts, row_ends = _bin_edges(g, g.op('Gather', shape, _int64(g, [height_axis])), output_size[0])
    col_starts, col_ends = _bin_edges(g, g.op('Gather', shape, _int64(g, [width_axis])), output_size[1])

    def corner(rows, cols):
        return g.op('Gather', g.op('Gather', integral, rows, axis_i=height_axis), cols, axis_i=width_axis)

    sums = g.op('Add', g.op('Sub', corner(row_ends, col_ends), corner(row_starts, col_ends)),
                g.op('Sub', corner(row_starts, col_starts), corner(row_ends, col_starts)))
    areas = g.op('Mul', g.op('Reshape', g.op('Sub', row_ends, row_starts), _int64(g, [-1, 1])),
                 g.op('Sub', col_ends, col_starts))
    return g.op('Div', sums, g.op('Cast', areas, to_i=_ONNX_FLOAT))
