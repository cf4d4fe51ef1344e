"""UniFormer3D side by side with mmaction2's video transformers, or the light UniFormer3D XXS / XS with mmaction2's
X3D (``--models light``, the paper's comparison), on the same clips.

For each backbone: parameters, GFLOPs (multiply-accumulates, the convention of the UniFormer paper's 41.8G for
UniFormer-S 16x4, counted by torch's FlopCounterMode), CPU latency and peak resident memory of one inference
clip, each model in its own process. With ``--toy-work-dirs NAME=DIR``, also the toy-task top-1 that
``mim test`` wrote to DIR/test_ordered and DIR/test_shuffled (see docs/toy_runs.md). Prints a Markdown table.

``--paths`` and ``--precisions`` time every backbone the same way on each path, in each precision that path offers:
``eager`` (PyTorch; bf16 under CPU autocast, as ``uniformer_mm.apis.speed_up_for_inference`` runs it) and
``openvino`` (the backbone exported to ONNX by ``uniformer_mm.deployment.export_onnx`` at the clip's shape, after
``switch_to_deploy`` where the backbone has it, compiled by OpenVINO with its precision hint for fp32 and bf16;
int8 after NNCF post-training quantization by ``uniformer_mm.apis.precision.quantize_openvino``, calibrated on
``--calibration`` random clips), each backbone and path in its own process. The table adds the relative error of
each output against the same model in float32 eager (max |out - fp32| / max |fp32|, the largest over its output
tensors, measured by ``uniformer_mm.deployment.relative_errors`` as the deployment tools do: NaN or inf fails the
backbone) and the share of this CPU's matmul throughput in that precision (a 4096 x 4096 matmul timed in the same
process; int8: int8 x int8 into int32). Every backbone is initialised as its training starts (``init_weights``),
and the light UniFormers' random weights are made to rank tokens as trained ones do
(``uniformer_mm.deployment.untie_token_scores_``), so that runtimes do not differ by tie-breaking. The CPU's native
instructions per precision are printed first.

Example:
    python tools/analysis_tools/benchmark_video.py --frames 16 --size 224 --threads 2
    python tools/analysis_tools/benchmark_video.py --models light --frames 16 --size 160 --threads 2
    python tools/analysis_tools/benchmark_video.py --paths eager openvino --precisions fp32 bf16 int8
"""
import argparse
import json
import logging
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# mmaction2's TimeSformer is ViT-B with divided space-time attention; MViTv2-S and UniFormer-S are their
# 'small' configurations. UniFormer3D-S is this project's.
BACKBONES = {
    'UniFormer3D-S (ours)': lambda frames, size: dict(type='UniFormer3D', arch='small'),
    'UniFormer-S (mmaction2)': lambda frames, size: dict(
        type='UniFormer', depth=[3, 4, 8, 3], embed_dim=[64, 128, 320, 512], head_dim=64),
    'TimeSformer (mmaction2, divided ST)': lambda frames, size: dict(
        type='TimeSformer', num_frames=frames, img_size=size, patch_size=16, embed_dims=768,
        attention_type='divided_space_time', norm_cfg=dict(type='LN', eps=1e-6)),
    'MViTv2-S (mmaction2)': lambda frames, size: dict(type='MViT', arch='small', spatial_size=size,
                                                      temporal_size=frames),
}
# X3D-S and X3D-M are one backbone (mmaction2's X3D with gamma_w 1, gamma_b 2.25, gamma_d 2.2) that the X3D paper
# runs on 13x160 and 16x224 clips.
LIGHT_BACKBONES = {
    'UniFormer3D-XXS (ours)': lambda frames, size: dict(type='UniFormer3D', arch='xxs'),
    'UniFormer3D-XS (ours)': lambda frames, size: dict(type='UniFormer3D', arch='xs'),
    'X3D-S / X3D-M (mmaction2)': lambda frames, size: dict(type='X3D', gamma_w=1, gamma_b=2.25, gamma_d=2.2),
}
FAMILIES = {'transformers': BACKBONES, 'light': LIGHT_BACKBONES}
PATHS = ('eager', 'openvino')
PRECISIONS = ('fp32', 'bf16', 'int8')
# int8 is NNCF post-training quantization, which runs through OpenVINO.
PATH_PRECISIONS = {'eager': ('fp32', 'bf16'), 'openvino': PRECISIONS}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--models', choices=sorted(FAMILIES), default='transformers')
    parser.add_argument('--frames', type=int, default=16)
    parser.add_argument('--size', type=int, default=224)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--repeat', type=int, default=3, help='timed runs after one warm-up run')
    parser.add_argument('--paths', nargs='+', choices=PATHS, default=['eager'])
    parser.add_argument('--precisions', nargs='+', choices=PRECISIONS, default=['fp32'],
                        help='each where the path offers it (int8: openvino)')
    parser.add_argument('--calibration', type=int, default=4, help='int8: random calibration clips')
    parser.add_argument('--toy-work-dirs', nargs='*', default=[], metavar='NAME=DIR',
                        help="toy-task runs to report, e.g. 'UniFormer3D-S (ours)=work_dirs/toy_motion'")
    parser.add_argument('--worker', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not any(p in PATH_PRECISIONS[path] for path in args.paths for p in args.precisions):
        parser.error(f'no path offers {args.precisions}: int8 runs on --paths openvino')
    return args


def output_tensors(outputs) -> list:
    """The tensors of a backbone's output, in order: a tensor, or nested tuples and lists of them (mmaction2's
    MViT returns one ``[map, class token]`` pair per output scale)."""
    if isinstance(outputs, (tuple, list)):
        return [tensor for output in outputs for tensor in output_tensors(output)]
    return [outputs]


def matmul_peak(precision: str) -> float:
    """Operations per second of ``uniformer_mm.apis.precision.reference_matmul`` in ``precision`` (after one
    warm-up call), the reference for a path's share of the machine."""
    from uniformer_mm.apis.precision import REFERENCE_MATMUL_SIZE, reference_matmul
    multiply = reference_matmul(precision)
    multiply()
    start = time.perf_counter()
    multiply()
    return 2 * REFERENCE_MATMUL_SIZE**3 / (time.perf_counter() - start)


def eager_runners(model, precisions) -> dict:
    """PyTorch as built; bf16 through ``AutocastBackbone``, as ``speed_up_for_inference`` runs it."""
    import torch

    from uniformer_mm.apis.precision import AutocastBackbone
    modules = {'fp32': model, 'bf16': AutocastBackbone(model, torch.bfloat16)}
    return {precision: lambda clip, module=modules[precision]: output_tensors(module(clip))
            for precision in precisions}


def openvino_runners(model, clip, precisions, calibration: int, threads: int, work_dir: Path) -> dict:
    """The backbone exported at the clip's shape and compiled by OpenVINO in each precision (int8: quantized by
    NNCF on random clips first, the rest in bf16 where the CPU runs it natively)."""
    import openvino
    import torch

    from uniformer_mm.apis.precision import compile_openvino, quantize_openvino
    from uniformer_mm.deployment import export_onnx
    if hasattr(model, 'switch_to_deploy'):
        model.switch_to_deploy()
    onnx_file = work_dir / 'backbone.onnx'
    export_onnx(model, clip, onnx_file, dynamic=False)
    core = openvino.Core()
    source = core.read_model(str(onnx_file))
    runners = {}
    for precision in precisions:
        network = source
        if precision == 'int8':
            network = quantize_openvino(source, [torch.randn(clip.shape) for _ in range(calibration)])
        compiled = compile_openvino(core, network, precision, threads=threads)
        request = compiled.create_infer_request()

        def run(clip, request=request, count=len(compiled.outputs)):
            request.infer(clip.numpy())
            return [torch.from_numpy(request.get_output_tensor(index).data.copy()) for index in range(count)]

        runners[precision] = run
    return runners


def run_worker(spec: dict) -> dict:
    """One backbone on one path, timed in each of its precisions; runs in its own process (the tool's
    ``--worker``) so that the peak RSS is this backbone's and path's."""
    import torch
    from mmaction.registry import MODELS
    from mmengine.logging import MMLogger
    from mmengine.registry import DefaultScope
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    import uniformer_mm  # noqa: F401  (registers UniFormer3D)
    from uniformer_mm.deployment import relative_errors, untie_token_scores_

    torch.set_num_threads(spec['threads'])
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmaction'):
        model = MODELS.build(FAMILIES[spec['models']][spec['name']](spec['frames'], spec['size']))
    # Each backbone initialised as its training starts (mmaction2's UniFormer port draws its linear layers only
    # there, ours as it is built), so that the errors compare networks rather than initialisation schemes.
    MMLogger.get_current_instance().setLevel(logging.WARNING)  # init_weights logs every parameter at INFO
    model.init_weights()
    model.eval()  # not chained: mmaction2's X3D.train() returns None
    untie_token_scores_(model)
    clip = torch.randn(1, 3, spec['frames'], spec['size'], spec['size'])
    precisions = [p for p in spec['precisions'] if p in PATH_PRECISIONS[spec['path']]]
    with torch.no_grad(), tempfile.TemporaryDirectory() as work_dir:
        # Count through the math attention path: FlopCounterMode has no formula for the fused CPU kernel and
        # would leave attention out of models that call scaled_dot_product_attention.
        counter = FlopCounterMode(display=False)
        with counter, sdpa_kernel([SDPBackend.MATH]):
            reference = output_tensors(model(clip))
        params = sum(p.numel() for p in model.parameters())
        if spec['path'] == 'eager':
            runners = eager_runners(model, precisions)
        else:
            runners = openvino_runners(model, clip, precisions, spec['calibration'], spec['threads'], Path(work_dir))
        results = {}
        for precision, runner in runners.items():
            timings = []
            for _ in range(spec['repeat'] + 1):
                start = time.perf_counter()
                output = runner(clip)
                timings.append(time.perf_counter() - start)
            steady = sorted(timings[1:])
            results[precision] = dict(latency=steady[len(steady) // 2],
                                      error=max(relative_errors(output, reference)), peak=matmul_peak(precision))
    return dict(params=params, gmacs=counter.get_total_flops() / 2e9, precisions=results,
                peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def last_accuracy(work_dir: Path) -> str:
    """The 'acc/top1' of the newest ``mim test`` run in a work dir, '-' if there is none."""
    from uniformer_mm.apis import newest_test_metrics  # keeps torch out of the parent process until here
    try:
        return f"{newest_test_metrics(work_dir, 'acc/top1')['acc/top1']:.3f}"
    except FileNotFoundError:
        return '-'


def main() -> None:
    args = parse_args()
    if args.worker:
        print(json.dumps(run_worker(json.loads(args.worker))))
        return
    toy = dict(item.split('=', 1) for item in args.toy_work_dirs)
    from uniformer_mm.apis.precision import describe_cpu_support
    print(describe_cpu_support())
    print(f'Input: one clip of {args.frames} frames at {args.size}x{args.size}; {args.threads} CPU threads; '
          f'latency is the median of {args.repeat} runs after a warm-up\n')
    print('| backbone | path | precision | params (M) | GMACs | CPU latency (s) | max rel. error vs fp32 eager '
          '| % of matmul peak | peak RSS (MB) | toy top-1 (ordered / shuffled) |')
    print('|---|---|---|---|---|---|---|---|---|---|')
    failed = []
    for name in FAMILIES[args.models]:
        accuracy = '-'
        if name in toy:
            ordered, shuffled = (last_accuracy(Path(toy[name]) / part) for part in ('test_ordered', 'test_shuffled'))
            accuracy = f'{ordered} / {shuffled}'
        for path in args.paths:
            if not any(p in PATH_PRECISIONS[path] for p in args.precisions):
                continue
            spec = dict(models=args.models, name=name, path=path, frames=args.frames, size=args.size,
                        threads=args.threads, repeat=args.repeat, precisions=args.precisions,
                        calibration=args.calibration)
            out = subprocess.run([sys.executable, __file__, '--worker', json.dumps(spec)], capture_output=True,
                                 text=True)
            if out.returncode:
                print(f'| {name} | {path} | failed: {out.stderr.strip().splitlines()[-1]} ||||||||')
                failed.append(f'{name} ({path})')
                continue
            result = json.loads(out.stdout.strip().splitlines()[-1])
            for precision, timing in result['precisions'].items():
                share = 100 * 2 * result['gmacs'] * 1e9 / timing['latency'] / timing['peak']
                print(f"| {name} | {path} | {precision} | {result['params'] / 1e6:.1f} | {result['gmacs']:.1f} | "
                      f"{timing['latency']:.2f} | {timing['error']:.1e} | {share:.0f} | "
                      f"{result['peak_rss_mb']:.0f} | {accuracy} |", flush=True)
    if failed:
        raise SystemExit(f"failed: {', '.join(failed)} (the error is in the table)")


if __name__ == '__main__':
    main()
