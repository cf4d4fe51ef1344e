"""CPU inference of the UniFormer backbones through every shipped path, beside mmdet's Swin-T, in one run.

Models (dense-prediction backbones, four outputs): UniFormer S-h14 (stage 3 hybrid, window 14, the detection
recipes), S (global), the light XXS and XS, and mmdet's Swin-T (the Mask R-CNN Swin-T backbone, window 7). Paths:

- ``eager``: PyTorch as built, under ``no_grad``;
- ``deploy``: after ``switch_to_deploy()`` (BatchNorms and position-embedding identities folded);
- ``compiled``: ``torch.compile`` of the deploy-folded backbone (Swin-T: of itself);
- ``onnxruntime``: the deploy-folded backbone exported once by ``uniformer_mm.deployment.export_onnx`` with dynamic
  sizes (the same file serves every size), run by ONNX Runtime;
- ``openvino``: that ONNX file compiled by OpenVINO for this CPU, in float32;
- ``openvino-static``: the same file reshaped to the image's shape before compiling (OpenVINO's usual set-up for
  a fixed input size: shape-specialised kernels; compiled once per size, in the warm-up round).

Each path runs in each of ``--precisions`` where it applies, for UniFormer and Swin-T alike: ``fp32``; ``bf16``
(``eager`` and ``compiled`` under CPU autocast, ``compiled`` with inductor freezing, as
``uniformer_mm.apis.speed_up_for_inference`` does; ``openvino-static`` with OpenVINO's bf16 precision hint); ``int8``
(``openvino-static`` after NNCF post-training quantization, ``onnxruntime`` after ONNX Runtime's static QDQ
quantization, both calibrated on ``--calibration`` random inputs of the first size). The CPU's native instructions
per precision are printed first.

Every model and path is timed in interleaved rounds (after a warm-up round that also compiles), so that all of
them share the machine's state. In each round a path is called ``--calls`` times back to back and the last call is
timed: with 1 (the default) each call follows the other paths' (its weights and buffers evicted from the caches, as
in a pipeline of several models); with more, the timed call follows its own (warm, as when one model serves a
stream of images). The table gives the median latency, its ratio to Swin-T
eager, the largest relative output error against the model's eager outputs (max |out - eager| / max |eager|),
multiply-accumulates, and the share of this machine's matmul throughput in the path's precision the path reaches
(2 x MACs / latency over the operations per second of a 4096 x 4096 matmul on the same threads in float32,
bfloat16 or int8, timed in the same rounds). The error is against the model's float32 eager outputs.
``--memory`` adds, per model,
what one training step keeps for backward with and without gradient checkpointing. ``--profile`` adds, per
OpenVINO path, where its time goes: the operation types (as OpenVINO ran them, with their kernels) that took the
most of the last timed call (OpenVINO's per-operation counters, which add a little to those paths' latency).

Example:
    python tools/analysis_tools/benchmark_backbone.py --size 800 1344 --size 224 224 --threads 2 --memory
    python tools/analysis_tools/benchmark_backbone.py --size 800 1344 --models s-h14 swin-t --precisions bf16 int8
"""
import argparse
import copy
import statistics
import tempfile
import time
from collections import Counter
from functools import partial
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import numpy as np
import torch
import torch.nn as nn
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from uniformer_mm import UniFormer2D
from uniformer_mm.apis.precision import (REFERENCE_MATMUL_SIZE, AutocastBackbone, compile_openvino,
                                         describe_cpu_support, quantize_onnxruntime, quantize_openvino,
                                         reference_matmul)
from uniformer_mm.deployment import export_onnx, untie_token_scores_

MODELS = {
    's-h14': lambda with_cp=False: UniFormer2D(arch='small', attn_mode='hybrid', window_size=14, with_cp=with_cp),
    's': lambda with_cp=False: UniFormer2D(arch='small', with_cp=with_cp),
    'xxs': lambda with_cp=False: UniFormer2D(arch='xxs', with_cp=with_cp),
    'xs': lambda with_cp=False: UniFormer2D(arch='xs', with_cp=with_cp),
    'swin-t': lambda with_cp=False: swin_t(with_cp),
}
PATHS = ('eager', 'deploy', 'compiled', 'onnxruntime', 'openvino', 'openvino-static')
PRECISIONS = ('fp32', 'bf16', 'int8')
# The paths offered in each lower precision (fp32 has them all).
LOWER_PRECISION_PATHS = {'bf16': ('eager', 'compiled', 'openvino-static'), 'int8': ('onnxruntime', 'openvino-static')}
# Swin-T has nothing to fold.
SWIN_PATHS = ('eager', 'compiled', 'onnxruntime', 'openvino-static')


def swin_t(with_cp: bool = False) -> nn.Module:
    from mmdet.models.backbones import SwinTransformer
    return SwinTransformer(embed_dims=96, depths=(2, 2, 6, 2), num_heads=(3, 6, 12, 24), window_size=7,
                           out_indices=(0, 1, 2, 3), with_cp=with_cp)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--size', type=int, nargs=2, action='append', metavar=('H', 'W'),
                        help='input size (repeatable); default 800x1344 and 224x224')
    parser.add_argument('--models', nargs='+', choices=sorted(MODELS), default=list(MODELS))
    parser.add_argument('--paths', nargs='+', choices=PATHS, default=list(PATHS))
    parser.add_argument('--precisions', nargs='+', choices=PRECISIONS, default=['fp32'])
    parser.add_argument('--calibration', type=int, default=4, help='int8: random calibration inputs')
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--repeat', type=int, default=3, help='timed rounds after the warm-up round')
    parser.add_argument('--calls', type=int, default=1,
                        help='calls of each path per round, back to back; the last is timed (more than 1: warm)')
    parser.add_argument('--memory', action='store_true', help='also measure training memory with / without with_cp')
    parser.add_argument('--profile', action='store_true', help='also show where the OpenVINO paths spend their time')
    args = parser.parse_args()
    if args.calls < 1 or args.repeat < 1:
        parser.error(f'--calls and --repeat must be at least 1, got {args.calls} and {args.repeat}')
    return args


def matmul_runners(precisions) -> Dict[str, Callable]:
    """The reference matmul per precision (``uniformer_mm.apis.precision.reference_matmul``), timed among the
    models' paths as the machine's reference throughput (the share of it a path reaches is its '% of matmul
    peak')."""
    return {precision: lambda image, multiply=reference_matmul(precision): [multiply()[:1, :1].float().numpy()]
            for precision in precisions}


def count_macs(model: nn.Module, image: torch.Tensor) -> float:
    counter = FlopCounterMode(display=False)
    # FlopCounterMode has a formula for the math attention path only.
    with torch.no_grad(), counter, sdpa_kernel([SDPBackend.MATH]):
        model(image)
    return counter.get_total_flops() / 2


def as_arrays(outputs) -> List[np.ndarray]:
    outputs = [outputs] if isinstance(outputs, (torch.Tensor, np.ndarray)) else list(outputs)
    return [o.float().numpy() if isinstance(o, torch.Tensor) else o for o in outputs]


def build_paths(name: str, paths: Tuple[str, ...], precisions: Tuple[str, ...], work_dir: Path,
                calibration: List[torch.Tensor],
                profile: bool = False) -> Tuple[nn.Module, Dict[Tuple[str, str], Callable]]:
    """The float32 eager model (the reference for the errors, timed only where fp32 eager is wanted) and one
    callable per wanted (precision, path), from an image tensor to a list of arrays; all share the same weights."""
    torch.manual_seed(0)
    eager = MODELS[name]()
    eager.eval()  # not chained: mmdet's SwinTransformer.train returns None
    untie_token_scores_(eager)  # the light models: runtimes must not differ by how they break ties
    if name == 'swin-t':
        paths = tuple(p for p in paths if p in SWIN_PATHS)
        folded = eager
    else:
        folded = copy.deepcopy(eager)
        folded.switch_to_deploy()
    wanted = {(precision, path) for precision in precisions for path in paths
              if precision == 'fp32' or path in LOWER_PRECISION_PATHS[precision]}
    runners = {('fp32', 'eager'): eager}
    if name != 'swin-t':
        runners['fp32', 'deploy'] = folded
    if ('bf16', 'eager') in wanted:
        runners['bf16', 'eager'] = AutocastBackbone(eager, torch.bfloat16)
    for precision in ('fp32', 'bf16'):
        if (precision, 'compiled') in wanted:
            # Static shapes: at a second size torch would otherwise recompile with dynamic shapes, which took
            # longer than 20 minutes on 2 cores for these models. Freezing as speed_up_for_inference does.
            module = folded if precision == 'fp32' else AutocastBackbone(folded, torch.bfloat16)
            runners[precision, 'compiled'] = torch.compile(module, dynamic=False, options={'freezing': True})
    exported = {key for key in wanted if key[1] in ('onnxruntime', 'openvino', 'openvino-static')}
    for precision, path in exported:
        runners[precision, path] = per_shape(partial(exported_runner, folded, precision, path, work_dir / name,
                                                     calibration, dynamic=name != 'swin-t', profile=profile))
    return eager, {key: runners[key]
                   for key in sorted(wanted, key=lambda k: (PRECISIONS.index(k[0]), PATHS.index(k[1])))
                   if key in runners}


def per_shape(build: Callable) -> Callable:
    """A runner built for each input shape it meets (in the warm-up round), by ``build(example_input)``."""
    built = {}

    def run(image: torch.Tensor) -> List[np.ndarray]:
        if image.shape not in built:
            built[image.shape] = build(image)
        return built[image.shape](image)

    run.built = built
    return run


def exported_runner(model: nn.Module, precision: str, path: str, work_dir: Path, calibration: List[torch.Tensor],
                    image: torch.Tensor, dynamic: bool = True, profile: bool = False) -> Callable:
    """The ONNX Runtime or OpenVINO runner of ``model`` at ``image``'s shape. UniFormer is exported once with
    dynamic sizes (``openvino-static`` reshapes it to the shape); mmdet's Swin-T specialises the batch size during
    export, so it is exported at each shape. int8 calibrates on ``calibration`` (random inputs, redrawn at the
    shape where they differ)."""
    import onnxruntime
    import openvino
    work_dir.mkdir(parents=True, exist_ok=True)
    onnx_file = work_dir / ('dynamic.onnx' if dynamic else '{}x{}.onnx'.format(*image.shape[-2:]))
    if not onnx_file.exists():
        export_onnx(model, image, onnx_file, dynamic=dynamic)
    if calibration and calibration[0].shape != image.shape and not dynamic:
        calibration = [torch.randn(image.shape) for _ in calibration]
    if path == 'onnxruntime':
        if precision == 'int8':
            quantized = onnx_file.with_suffix('.int8.onnx')
            quantize_onnxruntime(onnx_file, quantized, calibration)
            onnx_file = quantized
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        session = onnxruntime.InferenceSession(str(onnx_file), options, providers=['CPUExecutionProvider'])
        return lambda x: session.run(None, {session.get_inputs()[0].name: x.numpy()})
    core = openvino.Core()
    source = core.read_model(str(onnx_file))
    if precision == 'int8':
        source = quantize_openvino(source, calibration)
    compiled = compile_openvino(core, source, precision, image.shape if path == 'openvino-static' else None,
                                profile=profile)
    request = compiled.create_infer_request()

    def run(x: torch.Tensor) -> List[np.ndarray]:
        request.infer(x.numpy())
        return [request.get_output_tensor(index).data.copy() for index in range(len(compiled.outputs))]

    run.profiling_info = lambda: request.profiling_info
    return run


def print_openvino_profiles(runners: Dict[str, Dict[Tuple[str, str], Callable]], shape: torch.Size,
                            top: int = 8) -> None:
    """Per OpenVINO path, the operation types (with the kernel OpenVINO chose) that took the most of its last
    call at ``shape``, as milliseconds and shares of the counted total."""
    print(f'\n| input | model | precision | path | operation (kernel): ms, share of the counted total (top {top}) |')
    print('|---|---|---|---|---|')
    for name, keys in runners.items():
        for (precision, path), runner in keys.items():
            built = getattr(runner, 'built', {}).get(shape)
            if built is None or not hasattr(built, 'profiling_info'):
                continue
            times = Counter()
            for info in built.profiling_info():
                times[f'{info.node_type} ({info.exec_type})'] += info.real_time.total_seconds() * 1e3
            total = sum(times.values())
            parts = '; '.join(f'{kind}: {ms:.0f}, {100 * ms / total:.0f} %' for kind, ms in times.most_common(top))
            print(f"| {'x'.join(map(str, shape[-2:]))} | {name} | {precision} | {path} | {parts} |")
    print()


def saved_for_backward_mb(name: str, with_cp: bool, image: torch.Tensor) -> float:
    """Bytes of the tensors one training step keeps for backward, counted once per storage: what gradient
    checkpointing trades for compute (peak RSS would hide it behind the allocator's cache)."""
    model = MODELS[name](with_cp=with_cp)
    model.train()
    saved = {}

    def record(tensor):
        saved[tensor.untyped_storage().data_ptr()] = tensor.untyped_storage().nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(record, lambda tensor: tensor):
        loss = sum(out.mean() for out in model(image))
    loss.backward()
    return sum(saved.values()) / 2**20


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    sizes = args.size or [[800, 1344], [224, 224]]
    precisions = tuple(p for p in PRECISIONS if p in args.precisions)
    print(describe_cpu_support())
    timed = 'each path called once per round' if args.calls == 1 else \
        f'the last of {args.calls} back-to-back calls of each path per round (warm)'
    print(f'{args.threads} CPU threads; batch 1, median of {args.repeat} interleaved rounds after a warm-up round, '
          f'{timed}; a {REFERENCE_MATMUL_SIZE}x{REFERENCE_MATMUL_SIZE} matmul per precision is timed in every round as '
          'the reference throughput\n')
    print('| input | model | precision | path | latency (ms) | vs Swin-T eager fp32 | max rel. error vs fp32 eager '
          '| GMACs | % of matmul peak |')
    print('|---|---|---|---|---|---|---|---|---|')
    calibration = [torch.randn(1, 3, *sizes[0]) for _ in range(args.calibration)]
    with tempfile.TemporaryDirectory() as work_dir:
        eager, runners = {}, {}
        for name in args.models:
            eager[name], runners[name] = build_paths(name, tuple(args.paths), precisions, Path(work_dir), calibration,
                                                     args.profile)
        runners['matmul'] = {(precision, 'reference'): runner
                             for precision, runner in matmul_runners(precisions).items()}
        for height, width in sizes:
            image = torch.randn(1, 3, height, width)
            latencies = {(name, key): [] for name, keys in runners.items() for key in keys}
            errors, reference = {}, {}
            with torch.no_grad():
                for name in args.models:
                    reference[name] = as_arrays(eager[name](image))
                for round_index in range(args.repeat + 1):
                    for (name, key) in latencies:
                        for _ in range(args.calls if name != 'matmul' else 1):
                            start = time.perf_counter()
                            outputs = as_arrays(runners[name][key](image))
                            elapsed = time.perf_counter() - start
                        if round_index == 0 and name != 'matmul':
                            errors[name, key] = max(float(np.abs(o - r).max() / np.abs(r).max())
                                                    for o, r in zip(outputs, reference[name]))
                        elif round_index > 0:
                            latencies[name, key].append(elapsed)
            peaks = {precision: 2 * REFERENCE_MATMUL_SIZE**3 / statistics.median(latencies.pop(('matmul', key)))
                     for precision, key in [(p, (p, 'reference')) for p in precisions]}
            peak_list = ', '.join(f'{precision} {peak / 1e9:.0f} GOP/s' for precision, peak in peaks.items())
            print(f'| {height}x{width} | (matmul peak: {peak_list}) | | | | | | | |')
            macs = {name: count_macs(eager[name], image) for name in args.models}
            swin = latencies.get(('swin-t', ('fp32', 'eager')))
            swin = statistics.median(swin) if swin else None
            for (name, (precision, path)), times in latencies.items():
                latency = statistics.median(times)
                ratio = f'{latency / swin:.2f}' if swin else '-'
                print(f'| {height}x{width} | {name} | {precision} | {path} | {latency * 1e3:.0f} | {ratio} | '
                      f'{errors[name, (precision, path)]:.1e} | {macs[name] / 1e9:.1f} | '
                      f'{100 * 2 * macs[name] / latency / peaks[precision]:.0f} |', flush=True)
            if args.profile:
                print_openvino_profiles(runners, image.shape)
    if args.memory:
        print('\n| input | model | training: saved for backward (MB), with_cp off | with_cp on (every block) |')
        print('|---|---|---|---|')
        for height, width in sizes:
            image = torch.randn(1, 3, height, width)
            for name in args.models:
                off, on = (saved_for_backward_mb(name, with_cp, image) for with_cp in (False, True))
                print(f'| {height}x{width} | {name} | {off:.0f} | {on:.0f} |', flush=True)


if __name__ == '__main__':
    main()
