"""Lower precision for inference on a CPU: what the CPU runs natively, the backbone under autocast, and the
backbone compiled by OpenVINO (float32, bfloat16, float16 or int8 after post-training quantization).

Only the backbone changes precision: it is where the time goes, and its outputs are handed back in float32, so
the codebases' heads and post-processing (box decoding, NMS, upsampling) run as they always do.
"""
import platform
import tempfile
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Set, Tuple

import numpy as np
import torch
import torch.nn as nn

PRECISIONS = ('fp32', 'bf16', 'fp16', 'int8')
TORCH_DTYPES = {'fp32': torch.float32, 'bf16': torch.bfloat16, 'fp16': torch.float16}
OPENVINO_HINTS = {'fp32': 'f32', 'bf16': 'bf16', 'fp16': 'f16'}
# The CPU flags (as /proc/cpuinfo and lscpu spell them) whose instructions compute each precision natively, best
# first. Without any of them oneDNN emulates the precision through float32, slower than float32 itself.
NATIVE_INSTRUCTIONS = {
    'bf16': (('amx_bf16', 'AMX-BF16'), ('avx512_bf16', 'AVX512-BF16')),
    'fp16': (('amx_fp16', 'AMX-FP16'), ('avx512_fp16', 'AVX512-FP16')),
    'int8': (('amx_int8', 'AMX-INT8'), ('avx512_vnni', 'AVX512-VNNI'), ('avx_vnni', 'AVX-VNNI')),
}


def cpu_flags() -> Optional[Set[str]]:
    """The CPU's feature flags from ``/proc/cpuinfo``; None where it cannot be read (not Linux)."""
    try:
        text = Path('/proc/cpuinfo').read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith('flags'):
            return set(line.split(':', 1)[1].split())
    return None


def native_instructions(precision: str, flags: Optional[Set[str]] = None) -> Optional[List[str]]:
    """The instruction sets of this CPU that compute ``precision`` natively ([] when none; None when the flags
    are unknown). float32 needs none."""
    flags = cpu_flags() if flags is None else flags
    if flags is None:
        return None
    return [name for flag, name in NATIVE_INSTRUCTIONS.get(precision, ()) if flag in flags]


def describe_cpu_support(flags: Optional[Set[str]] = None) -> str:
    """One line naming the CPU and, per lower precision, the instructions that run it (or 'emulated')."""
    flags = cpu_flags() if flags is None else flags
    if flags is None:
        return f'CPU {platform.processor() or platform.machine()}: flags unknown (not Linux)'
    parts = [f"{precision}: {', '.join(native_instructions(precision, flags)) or 'emulated'}"
             for precision in NATIVE_INSTRUCTIONS]
    return f'CPU {_cpu_model()}: ' + '; '.join(parts)


def _cpu_model() -> str:
    try:
        for line in Path('/proc/cpuinfo').read_text().splitlines():
            if line.startswith('model name'):
                return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


REFERENCE_MATMUL_SIZE = 4096


def reference_matmul(precision: str, size: int = REFERENCE_MATMUL_SIZE) -> Callable[[], torch.Tensor]:
    """A ``size`` x ``size`` matmul in ``precision`` on torch's threads, as a call that returns its product: the
    reference throughput the benchmarks report a path's share of (``2 * size**3`` operations per call).

    Args:
        precision (str): 'fp32', 'bf16', or 'int8' (int8 x int8 into int32, ``torch._int_mm``).
        size (int): The matrices' side.
    """
    if precision == 'int8':
        a, b = (torch.randint(-128, 127, (size, size), dtype=torch.int8) for _ in range(2))
        return lambda: torch._int_mm(a, b)
    dtype = {'fp32': torch.float32, 'bf16': torch.bfloat16}[precision]
    a, b = (torch.randn(size, size, dtype=dtype) for _ in range(2))
    return lambda: a @ b


def check_precision_is_native(precision: str, allow_emulated: bool = False) -> None:
    """Refuses a precision this CPU would emulate (slower than float32) unless ``allow_emulated``.

    Raises:
        ValueError: ``precision`` is unknown, or emulated here and ``allow_emulated`` is False.
    """
    if precision not in PRECISIONS:
        raise ValueError(f'unknown precision {precision!r}; expected one of {PRECISIONS}')
    if precision == 'fp32' or allow_emulated:
        return
    native = native_instructions(precision)
    if native is None:
        raise ValueError(f'cannot tell whether this CPU runs {precision} natively (no /proc/cpuinfo); pass '
                         'allow_emulated=True (--allow-emulated) to run it anyway')
    if not native:
        flags = ', '.join(flag for flag, _ in NATIVE_INSTRUCTIONS[precision])
        raise ValueError(f'this CPU has none of {flags}, so {precision} would be emulated, slower than fp32 '
                         f'({describe_cpu_support()}). Pass allow_emulated=True (--allow-emulated) to run it '
                         'anyway: the numerics are the same, only slower.')


def _map_outputs(outputs, function: Callable):
    if isinstance(outputs, (tuple, list)):
        return type(outputs)(_map_outputs(output, function) for output in outputs)
    return function(outputs)


class AutocastBackbone(nn.Module):
    """A backbone run under CPU autocast, whose outputs are handed back in float32.

    Autocast computes the convolutions and matmuls in ``dtype`` and keeps what needs float32 in float32 (its
    LayerNorm and softmax policy; the backbone's ``attn_precision`` and token scores on top). Attributes other
    than ``forward`` are the wrapped backbone's, so heads and tools that read the backbone still work.

    Args:
        backbone (nn.Module): The backbone, with its weights in float32.
        dtype (torch.dtype): ``torch.bfloat16`` or ``torch.float16``.
    """

    def __init__(self, backbone: nn.Module, dtype: torch.dtype) -> None:
        super().__init__()
        self.backbone = backbone
        self.dtype = dtype

    def forward(self, x: torch.Tensor):
        with torch.autocast(x.device.type, dtype=self.dtype):
            outputs = self.backbone(x)
        return _map_outputs(outputs, lambda output: output.float())

    def __getattr__(self, name: str):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(super().__getattr__('backbone'), name)


class OpenVINOBackbone(nn.Module):
    """A backbone exported to ONNX once (dynamic sizes) and run by OpenVINO on the CPU, compiled for each input
    shape it meets (OpenVINO's fastest set-up for a fixed size; the first call at a new shape compiles).

    Args:
        backbone (nn.Module): The backbone with its weights loaded; folded with ``switch_to_deploy`` (identical
            outputs) before export.
        example_input (torch.Tensor): An input of the expected layout, (B, C, H, W) or (B, C, T, H, W).
        precision (str): 'fp32', 'bf16' or 'fp16' (OpenVINO's ``INFERENCE_PRECISION_HINT``), or 'int8': the
            model quantized by NNCF (:func:`quantize_openvino`) on ``calibration``, the rest in bf16 where the
            CPU runs it natively, else float32.
        calibration (Iterable[torch.Tensor], optional): Backbone inputs for int8 (a few dozen drawn from the
            config's data pipeline; see :func:`collect_backbone_inputs`).
        threads (int, optional): OpenVINO's inference threads; defaults to torch's.
    """

    def __init__(self, backbone: nn.Module, example_input: torch.Tensor, precision: str = 'fp32',
                 calibration: Optional[Sequence[torch.Tensor]] = None, threads: Optional[int] = None) -> None:
        super().__init__()
        import openvino

        from uniformer_mm.deployment import export_onnx
        if precision not in PRECISIONS:
            raise ValueError(f'unknown precision {precision!r}; expected one of {PRECISIONS}')
        if precision == 'int8' and not calibration:
            raise ValueError('int8 needs calibration inputs (collect_backbone_inputs draws them from a config)')
        self.precision = precision
        backbone.eval()
        if hasattr(backbone, 'switch_to_deploy') and not getattr(backbone, 'deploy', False):
            backbone.switch_to_deploy()
        with torch.no_grad():
            structure = backbone(example_input)
        self._single_output = isinstance(structure, torch.Tensor)
        self._core = openvino.Core()
        with tempfile.TemporaryDirectory() as work_dir:
            onnx_file = Path(work_dir) / 'backbone.onnx'
            export_onnx(backbone, example_input, onnx_file)
            self._model = self._core.read_model(str(onnx_file))
        if precision == 'int8':
            self._model = quantize_openvino(self._model, calibration)
        self._threads = threads
        self._compiled: Dict[Tuple[int, ...], Callable] = {}

    def compiled_for(self, shape: Tuple[int, ...]):
        """The model compiled for inputs of ``shape`` (compiled on first use)."""
        if shape not in self._compiled:
            self._compiled[shape] = compile_openvino(self._core, self._model, self.precision, shape, self._threads)
        return self._compiled[shape]

    def forward(self, x: torch.Tensor):
        results = self.compiled_for(tuple(x.shape))(x.detach().float().cpu().numpy())
        outputs = tuple(torch.from_numpy(np.asarray(value)) for value in results.values())
        return outputs[0] if self._single_output else outputs


def compile_openvino(core, model, precision: str, shape: Optional[Sequence[int]] = None,
                     threads: Optional[int] = None, profile: bool = False):
    """An OpenVINO model compiled for the CPU in ``precision``: OpenVINO's precision hint for fp32 / bf16 / fp16;
    for an int8 (quantized) model, the hint for what stays unquantized, bf16 where the CPU runs it natively.

    Args:
        core (openvino.Core): The runtime.
        model (openvino.Model): The model; left as it is.
        precision (str): One of ``PRECISIONS``.
        shape (Sequence[int], optional): Compile for this input shape only (OpenVINO's fastest set-up for a
            fixed size); default: the model's own, dynamic sizes included.
        threads (int, optional): Inference threads; defaults to torch's.
        profile (bool): Count each operation's time (OpenVINO's ``PERF_COUNT``; an infer request's
            ``profiling_info``), at a small cost to every call.
    """
    hint = OPENVINO_HINTS.get(precision) or ('bf16' if native_instructions('bf16') else 'f32')
    if shape is not None:
        model = model.clone()
        model.reshape(list(shape))
    config = {'INFERENCE_PRECISION_HINT': hint, 'INFERENCE_NUM_THREADS': threads or torch.get_num_threads(),
              'PERF_COUNT': profile}
    return core.compile_model(model, 'CPU', config)


def quantize_openvino(model, calibration: Iterable[torch.Tensor], subset_size: Optional[int] = None):
    """Post-training int8 quantization of an OpenVINO model by NNCF.

    NNCF's transformer scheme quantizes the inputs of the convolutions and matmuls, with SmoothQuant for the
    matmuls' activations; LayerNorm, softmax, GELU and the additions stay in higher precision. Two kinds of layer
    are kept out of it (docs/precision.md):

    - the depthwise convolutions (position embeddings, local aggregation): OpenVINO runs them in bf16 or float32
      whatever their input, so quantizing it only adds rounding, and where ``switch_to_deploy`` has folded a
      position embedding's identity into its kernel that rounding lands on the residual stream itself (UniFormer3D-S
      at 16x224: largest relative error 7.3e-2 with them quantized, 2.3e-2 without, and faster);
    - the class token's score row of the light models (a matmul whose output only ranks tokens): rounding it to
      int8 would reorder nearly tied tokens.

    Activations are quantized per tensor, so that no input gets ranges along an axis that is not a channel: NNCF
    gave a depthwise convolution's input one range per channel, placed before the Transpose that brings UniFormer's
    channels-last tokens to channels first, still on axis 1, which there is a row of the image or a token (the
    model then failed on any other input size).

    Args:
        model (openvino.Model): The float model (read from the exported ONNX file).
        calibration (Iterable[torch.Tensor]): Inputs to collect activation statistics on.
        subset_size (int, optional): How many of them to use; defaults to all.
    """
    import nncf
    from nncf.quantization.advanced_parameters import AdvancedQuantizationParameters, QuantizationParameters
    inputs = [tensor.detach().float().cpu().numpy() for tensor in calibration]
    dataset = nncf.Dataset(inputs)
    score_rows = [op.get_friendly_name() for op in model.get_ordered_ops()
                  if op.get_type_name() == 'MatMul' and _is_score_row(op)]
    return nncf.quantize(
        model, dataset, model_type=nncf.ModelType.TRANSFORMER, subset_size=subset_size or len(inputs),
        ignored_scope=nncf.IgnoredScope(names=score_rows, types=['GroupConvolution'], validate=False),
        advanced_parameters=AdvancedQuantizationParameters(
            activations_quantization_params=QuantizationParameters(per_channel=False)))


def quantize_onnxruntime(onnx_file: Path, output_file: Path, calibration: Iterable[torch.Tensor]) -> None:
    """Post-training int8 quantization of an ONNX file by ONNX Runtime (static, QDQ, int8 weights per channel,
    activations per tensor), the alternative to :func:`quantize_openvino` that the benchmarks compare it with.

    Only the convolutions and matmuls are quantized; LayerNorm, softmax and GELU stay float32, and so do the
    depthwise convolutions and the light models' class-token score rows (matmuls with one query row), as in
    :func:`quantize_openvino`.

    Args:
        onnx_file (Path): The float model.
        output_file (Path): Where the quantized model goes.
        calibration (Iterable[torch.Tensor]): Inputs to collect activation ranges on.
    """
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    model = onnx.shape_inference.infer_shapes(onnx.load(str(onnx_file)))
    input_name = model.graph.input[0].name
    shapes = {info.name: info.type.tensor_type.shape for info in model.graph.value_info}
    score_rows = [node.name for node in model.graph.node
                  if node.op_type == 'MatMul' and len(shapes.get(node.input[0], ()).dim) >= 2
                  and shapes[node.input[0]].dim[-2].dim_value == 1]
    depthwise = [node.name for node in model.graph.node if node.op_type == 'Conv'
                 and any(attribute.name == 'group' and attribute.i > 1 for attribute in node.attribute)]

    class Reader(CalibrationDataReader):

        def __init__(self):
            self.inputs = iter([{input_name: tensor.detach().float().cpu().numpy()} for tensor in calibration])

        def get_next(self):
            return next(self.inputs, None)

    quantize_static(str(onnx_file), str(output_file), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    op_types_to_quantize=['Conv', 'MatMul', 'Gemm'], nodes_to_exclude=score_rows + depthwise,
                    # A convolution's output is quantized only where a quantized layer takes it, not on its way
                    # into a depthwise one (the local blocks' 1x1 convolution before their 5x5 depthwise one).
                    extra_options=dict(OpTypesToExcludeOutputQuantization=['Conv']))


def _is_score_row(matmul) -> bool:
    """Whether a MatMul is a class token's query against all keys: one query row, feeding a softmax. In a file
    with dynamic sizes the row count is an interval whose upper bound is 1 (``..1``: OpenVINO infers it from the
    slice that takes the first row), not a static 1."""
    shape = matmul.get_input_partial_shape(0)
    if shape.rank.is_dynamic or shape.rank.get_length() < 2:
        return False
    return shape[shape.rank.get_length() - 2].get_max_length() == 1


def collect_backbone_inputs(model: nn.Module, batches: Iterable, limit: int) -> List[torch.Tensor]:
    """Runs ``model.test_step`` on data batches, in eval mode, and records what its backbone receives, up to
    ``limit`` tensors (the inputs int8 calibration needs: the config's own pre-processing, whatever the codebase).
    The model's weights, statistics and mode are as before.

    Args:
        model (nn.Module): An OpenMMLab model with a ``backbone``.
        batches (Iterable): Data batches, as a dataloader yields them.
        limit (int): How many backbone inputs to keep.
    """
    recorded: List[torch.Tensor] = []
    handle = model.backbone.register_forward_pre_hook(lambda module, args: recorded.append(args[0].detach()))
    # In eval mode: a Runner builds its model in training mode, where every calibration batch of one sample would
    # also move the BatchNorm running statistics that are then folded and quantized.
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for batch in batches:
                model.test_step(batch)
                if len(recorded) >= limit:
                    break
    finally:
        handle.remove()
        model.train(was_training)
    if not recorded:
        raise ValueError('the data gave no batch to calibrate on')
    return recorded[:limit]


def calibration_dataloader(cfg, samples: int):
    """A dataloader over ``samples`` of the config's training images, evenly spaced through the dataset (a
    folder-per-class dataset lists its classes one after the other, so the first ones would all be one class),
    with its test pipeline, one sample per batch: calibration draws on training data, never on what is evaluated.

    Args:
        cfg (mmengine.Config): A run config with ``train_dataloader`` and ``test_dataloader``.
        samples (int): How many samples it yields at most.
    """
    import copy

    from mmengine.runner import Runner
    from torch.utils.data import DataLoader
    loader = copy.deepcopy(cfg.train_dataloader)
    dataset = _innermost_dataset(loader.dataset)
    dataset.pipeline = copy.deepcopy(_innermost_dataset(cfg.test_dataloader.dataset).pipeline)
    dataset.test_mode = True
    loader.update(batch_size=1, num_workers=0, persistent_workers=False,
                  sampler=dict(type='DefaultSampler', shuffle=False))
    loader.pop('batch_sampler', None)
    built = Runner.build_dataloader(loader)
    subset = built.dataset
    while not hasattr(subset, 'get_subset_') and hasattr(subset, 'dataset'):
        subset = subset.dataset
    picks = np.unique(np.linspace(0, len(subset) - 1, min(samples, len(subset))).round().astype(int))
    subset.get_subset_(picks.tolist())
    return DataLoader(subset, batch_size=1, shuffle=False, collate_fn=built.collate_fn)


def _innermost_dataset(dataset):
    while 'pipeline' not in dataset and 'dataset' in dataset:
        dataset = dataset.dataset
    return dataset
