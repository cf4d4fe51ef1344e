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

Every model and path is timed in interleaved rounds (one call each per round, after a warm-up round that also
compiles), so that all of them share the machine's state; the table gives the median latency, its ratio to Swin-T
eager, the largest relative output error against the model's eager outputs (max |out - eager| / max |eager|),
multiply-accumulates, and the share of this machine's float32 matmul throughput the path reaches
(2 x MACs / latency over the FLOP/s of a 4096 x 4096 matmul on the same threads). ``--memory`` adds, per model,
what one training step keeps for backward with and without gradient checkpointing.

Example:
    python tools/analysis_tools/benchmark_backbone.py --size 800 1344 --size 224 224 --threads 2 --memory
"""
import argparse
import copy
import statistics
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import numpy as np
import torch
import torch.nn as nn
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from uniformer_mm import UniFormer2D
from uniformer_mm.deployment import export_onnx

MODELS = {
    's-h14': lambda with_cp=False: UniFormer2D(arch='small', attn_mode='hybrid', window_size=14, with_cp=with_cp),
    's': lambda with_cp=False: UniFormer2D(arch='small', with_cp=with_cp),
    'xxs': lambda with_cp=False: UniFormer2D(arch='xxs', with_cp=with_cp),
    'xs': lambda with_cp=False: UniFormer2D(arch='xs', with_cp=with_cp),
    'swin-t': lambda with_cp=False: swin_t(with_cp),
}
PATHS = ('eager', 'deploy', 'compiled', 'onnxruntime', 'openvino', 'openvino-static')
# Swin-T has nothing to fold and the comparison asked of it is PyTorch eager and compiled.
SWIN_PATHS = ('eager', 'compiled')


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
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--repeat', type=int, default=3, help='timed rounds after the warm-up round')
    parser.add_argument('--memory', action='store_true', help='also measure training memory with / without with_cp')
    return parser.parse_args()


MATMUL_SIZE = 4096


def matmul_runner() -> Callable:
    """A float32 MATMUL_SIZE x MATMUL_SIZE matmul, timed among the models' paths as the machine's reference
    throughput (the share of it a path reaches is its '% of matmul peak')."""
    a, b = torch.randn(MATMUL_SIZE, MATMUL_SIZE), torch.randn(MATMUL_SIZE, MATMUL_SIZE)
    return lambda image: [(a @ b)[:1, :1].numpy()]


def count_macs(model: nn.Module, image: torch.Tensor) -> float:
    counter = FlopCounterMode(display=False)
    # FlopCounterMode has a formula for the math attention path only.
    with torch.no_grad(), counter, sdpa_kernel([SDPBackend.MATH]):
        model(image)
    return counter.get_total_flops() / 2


def as_arrays(outputs) -> List[np.ndarray]:
    outputs = [outputs] if isinstance(outputs, (torch.Tensor, np.ndarray)) else list(outputs)
    return [o.numpy() if isinstance(o, torch.Tensor) else o for o in outputs]


def build_paths(name: str, paths: Tuple[str, ...], work_dir: Path) -> Dict[str, Callable]:
    """One callable per path, from an image tensor to a list of arrays; all paths share the same weights."""
    torch.manual_seed(0)
    eager = MODELS[name]()
    eager.eval()  # not chained: mmdet's SwinTransformer.train returns None
    if getattr(eager, 'light', False):
        # Untrained weights attend almost uniformly, and the class token starts at zero, so its query is zero and
        # every token score of the first pruning block ties exactly. Runtimes break such ties differently (OpenVINO's
        # TopK is not stable), so each would keep other tokens. A drawn class token and sharper attention (as in the
        # tests) make the scores distinct, as trained weights do.
        with torch.no_grad():
            eager.cls_token.normal_(std=0.02)
            for param_name, param in eager.named_parameters():
                if param_name.endswith('attn.qkv.weight'):
                    param.mul_(6)
    runners = {'eager': eager}
    if name == 'swin-t':
        paths = tuple(p for p in paths if p in SWIN_PATHS)
        if 'compiled' in paths:
            # Static shapes: at a second size torch would otherwise recompile with dynamic shapes, which took
            # longer than 20 minutes on 2 cores for these models.
            runners['compiled'] = torch.compile(eager, dynamic=False)
    else:
        folded = copy.deepcopy(eager)
        folded.switch_to_deploy()
        runners['deploy'] = folded
        if 'compiled' in paths:
            # The compiled wrapper shares the folded module and its weights.
            runners['compiled'] = torch.compile(folded, dynamic=False)
        if {'onnxruntime', 'openvino', 'openvino-static'} & set(paths):
            onnx_file = work_dir / f'{name}.onnx'
            export_onnx(folded, torch.randn(1, 3, 224, 224), onnx_file)
            if 'onnxruntime' in paths:
                import onnxruntime
                options = onnxruntime.SessionOptions()
                options.intra_op_num_threads = torch.get_num_threads()
                session = onnxruntime.InferenceSession(str(onnx_file), options, providers=['CPUExecutionProvider'])
                runners['onnxruntime'] = lambda image, s=session: s.run(None, {s.get_inputs()[0].name: image.numpy()})
            if {'openvino', 'openvino-static'} & set(paths):
                runners.update(openvino_runners(onnx_file))
    return {path: runners[path] for path in paths if path in runners}


def openvino_runners(onnx_file: Path) -> Dict[str, Callable]:
    """The ``openvino`` (dynamic shapes, as exported) and ``openvino-static`` (reshaped per image size) runners."""
    import openvino
    core = openvino.Core()
    config = {'INFERENCE_NUM_THREADS': torch.get_num_threads(), 'INFERENCE_PRECISION_HINT': 'f32'}
    dynamic = core.compile_model(str(onnx_file), 'CPU', config)
    static_models = {}

    def run_static(image: torch.Tensor) -> List[np.ndarray]:
        shape = tuple(image.shape)
        if shape not in static_models:
            model = core.read_model(str(onnx_file))
            model.reshape(list(shape))
            static_models[shape] = core.compile_model(model, 'CPU', config)
        return list(static_models[shape](image.numpy()).values())

    return {'openvino': lambda image: list(dynamic(image.numpy()).values()), 'openvino-static': run_static}


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
    print(f'{args.threads} CPU threads; batch 1, median of {args.repeat} interleaved rounds after a warm-up round; '
          f'a {MATMUL_SIZE}x{MATMUL_SIZE} float32 matmul is timed in every round as the reference throughput\n')
    print('| input | model | path | latency (ms) | vs Swin-T eager | max rel. error vs eager | GMACs '
          '| % of matmul peak |')
    print('|---|---|---|---|---|---|---|---|')
    with tempfile.TemporaryDirectory() as work_dir:
        runners = {name: build_paths(name, tuple(args.paths), Path(work_dir)) for name in args.models}
        runners['matmul'] = {'reference': matmul_runner()}
        for height, width in sizes:
            image = torch.randn(1, 3, height, width)
            latencies = {(name, path): [] for name, paths in runners.items() for path in paths}
            errors, reference = {}, {}
            with torch.no_grad():
                for round_index in range(args.repeat + 1):
                    for (name, path) in latencies:
                        start = time.perf_counter()
                        outputs = as_arrays(runners[name][path](image))
                        elapsed = time.perf_counter() - start
                        if round_index == 0:
                            reference.setdefault(name, outputs)
                            errors[name, path] = max(float(np.abs(o - r).max() / np.abs(r).max())
                                                     for o, r in zip(outputs, reference[name]))
                        else:
                            latencies[name, path].append(elapsed)
            peak = 2 * MATMUL_SIZE**3 / statistics.median(latencies.pop(('matmul', 'reference')))
            print(f'| {height}x{width} | (matmul peak: {peak / 1e9:.0f} GFLOP/s) | | | | | | |')
            macs = {name: count_macs(runners[name]['eager'], image) for name in args.models}
            swin = statistics.median(latencies['swin-t', 'eager']) if ('swin-t', 'eager') in latencies else None
            for (name, path), times in latencies.items():
                latency = statistics.median(times)
                ratio = f'{latency / swin:.2f}' if swin else '-'
                print(f'| {height}x{width} | {name} | {path} | {latency * 1e3:.0f} | {ratio} | '
                      f'{errors[name, path]:.1e} | {macs[name] / 1e9:.1f} | '
                      f'{100 * 2 * macs[name] / latency / peak:.0f} |', flush=True)
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
