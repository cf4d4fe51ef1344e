"""UniFormer3D side by side with mmaction2's video transformers, or the light UniFormer3D XXS / XS with mmaction2's
X3D (``--models light``, the paper's comparison), on the same clips.

For each backbone: parameters, GFLOPs (multiply-accumulates, the convention of the UniFormer paper's 41.8G for
UniFormer-S 16x4, counted by torch's FlopCounterMode), CPU latency and peak resident memory of one inference
clip, each model in its own process. With ``--toy-work-dirs NAME=DIR``, also the toy-task top-1 that
``mim test`` wrote to DIR/test_ordered and DIR/test_shuffled (see docs/toy_runs.md). Prints a Markdown table.

``--precisions fp32 bf16`` times every backbone in each precision the same way (bf16: CPU autocast, as
``uniformer_mm.apis.speed_up_for_inference`` runs it) and adds the relative error of its output against the same
model in float32 (max |out - fp32| / max |fp32|, the largest over its output tensors, measured by
``uniformer_mm.deployment.relative_errors`` as the deployment tools do: NaN or inf fails the backbone) and the
share of this CPU's matmul throughput in that precision (a 4096 x 4096 matmul timed in the same process). The
CPU's native instructions per precision are printed first.

Example:
    python tools/analysis_tools/benchmark_video.py --frames 16 --size 224 --threads 2
    python tools/analysis_tools/benchmark_video.py --models light --frames 16 --size 160 --threads 2
"""
import argparse
import json
import resource
import subprocess
import sys
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


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--models', choices=sorted(FAMILIES), default='transformers')
    parser.add_argument('--frames', type=int, default=16)
    parser.add_argument('--size', type=int, default=224)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--repeat', type=int, default=3, help='timed runs after one warm-up run')
    parser.add_argument('--precisions', nargs='+', choices=('fp32', 'bf16'), default=['fp32'])
    parser.add_argument('--toy-work-dirs', nargs='*', default=[], metavar='NAME=DIR',
                        help="toy-task runs to report, e.g. 'UniFormer3D-S (ours)=work_dirs/toy_motion'")
    parser.add_argument('--worker', help=argparse.SUPPRESS)
    return parser.parse_args()


def output_tensors(outputs) -> list:
    """The tensors of a backbone's output, in order: a tensor, or nested tuples and lists of them (mmaction2's
    MViT returns one ``[map, class token]`` pair per output scale)."""
    if isinstance(outputs, (tuple, list)):
        return [tensor for output in outputs for tensor in output_tensors(output)]
    return [outputs]


def run_worker(spec: dict) -> dict:
    import torch
    from mmaction.registry import MODELS
    from mmengine.registry import DefaultScope
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    import uniformer_mm  # noqa: F401  (registers UniFormer3D)
    from uniformer_mm.deployment import relative_errors

    torch.set_num_threads(spec['threads'])
    with DefaultScope.overwrite_default_scope('mmaction'):
        model = MODELS.build(FAMILIES[spec['models']][spec['name']](spec['frames'], spec['size']))
    model.eval()  # not chained: mmaction2's X3D.train() returns None
    clip = torch.randn(1, 3, spec['frames'], spec['size'], spec['size'])
    with torch.no_grad():
        # Count through the math attention path: FlopCounterMode has no formula for the fused CPU kernel and
        # would leave attention out of models that call scaled_dot_product_attention.
        counter = FlopCounterMode(display=False)
        with counter, sdpa_kernel([SDPBackend.MATH]):
            reference = model(clip)
        results = {}
        for precision in spec['precisions']:
            dtype = {'fp32': torch.float32, 'bf16': torch.bfloat16}[precision]
            timings = []
            for _ in range(spec['repeat'] + 1):
                start = time.perf_counter()
                with torch.autocast('cpu', dtype=dtype, enabled=precision != 'fp32'):
                    output = model(clip)
                timings.append(time.perf_counter() - start)
            a, b = (torch.randn(4096, 4096, dtype=dtype) for _ in range(2))
            start = time.perf_counter()
            a @ b
            peak = 2 * 4096**3 / (time.perf_counter() - start)
            steady = sorted(timings[1:])
            error = max(relative_errors(output_tensors(output), output_tensors(reference)))
            results[precision] = dict(latency=steady[len(steady) // 2], error=error, peak=peak)
    return dict(params=sum(p.numel() for p in model.parameters()), gmacs=counter.get_total_flops() / 2e9,
                precisions=results, peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


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
    print('| backbone | precision | params (M) | GMACs | CPU latency (s) | max rel. error vs fp32 | % of matmul peak '
          '| peak RSS (MB) | toy top-1 (ordered / shuffled) |')
    print('|---|---|---|---|---|---|---|---|---|')
    failed = []
    for name in FAMILIES[args.models]:
        spec = dict(models=args.models, name=name, frames=args.frames, size=args.size, threads=args.threads,
                    repeat=args.repeat, precisions=args.precisions)
        out = subprocess.run([sys.executable, __file__, '--worker', json.dumps(spec)], capture_output=True,
                             text=True)
        if out.returncode:
            print(f'| {name} | failed: {out.stderr.strip().splitlines()[-1]} ||||||||')
            failed.append(name)
            continue
        result = json.loads(out.stdout.strip().splitlines()[-1])
        accuracy = '-'
        if name in toy:
            ordered, shuffled = (last_accuracy(Path(toy[name]) / part) for part in ('test_ordered', 'test_shuffled'))
            accuracy = f'{ordered} / {shuffled}'
        for precision, timing in result['precisions'].items():
            share = 100 * 2 * result['gmacs'] * 1e9 / timing['latency'] / timing['peak']
            print(f"| {name} | {precision} | {result['params'] / 1e6:.1f} | {result['gmacs']:.1f} | "
                  f"{timing['latency']:.2f} | {timing['error']:.1e} | {share:.0f} | {result['peak_rss_mb']:.0f} | "
                  f'{accuracy} |')
    if failed:
        raise SystemExit(f"failed: {', '.join(failed)} (the error is in the table)")


if __name__ == '__main__':
    main()
