"""Speed and memory of UniFormer2D per stage-3 mode: fused attention vs the math path, and ``with_cp``.

Each configuration runs in its own process, so its peak resident memory is its own. For training it also
counts the bytes of the tensors autograd keeps for backward, which is what gradient checkpointing reduces
(peak RSS on the CPU hides it: the allocator keeps freed memory). Prints a Markdown table.

Example:
    python tools/analysis_tools/benchmark_attention.py --arch small --size 800 1216 --threads 2
"""
import argparse
import json
import resource
import subprocess
import sys
import time


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--arch', default='small')
    parser.add_argument('--size', type=int, nargs=2, default=(800, 1216), metavar=('H', 'W'))
    parser.add_argument('--batch', type=int, default=1)
    parser.add_argument('--modes', nargs='+', default=['global', 'window', 'hybrid'])
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--repeat', type=int, default=3, help='timed runs after one warm-up run')
    parser.add_argument('--worker', help=argparse.SUPPRESS)
    return parser.parse_args()


def run_worker(spec: dict) -> dict:
    """Times one configuration in this process and reports its latency and peak memory."""
    import torch
    from torch.nn.attention import SDPBackend, sdpa_kernel

    from uniformer_mm import UniFormer2D

    torch.set_num_threads(spec['threads'])
    model = UniFormer2D(arch=spec['arch'], attn_mode=spec['mode'],
                        with_cp=tuple(spec['with_cp']) if spec['with_cp'] else False)
    model.train(spec['train'])
    image = torch.randn(spec['batch'], 3, *spec['size'])
    backends = [SDPBackend.MATH] if spec['attention'] == 'math' else \
        [SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH]
    saved_storages = {}

    def record_saved(tensor):
        # Tensors kept for backward, counted once per storage: what gradient checkpointing trades for compute.
        storage = tensor.untyped_storage()
        saved_storages[storage.data_ptr()] = storage.nbytes()
        return tensor

    timings = []
    with sdpa_kernel(backends):
        for _ in range(spec['repeat'] + 1):
            start = time.perf_counter()
            if spec['train']:
                saved_storages.clear()
                with torch.autograd.graph.saved_tensors_hooks(record_saved, lambda tensor: tensor):
                    loss = sum(out.float().mean() for out in model(image))
                loss.backward()
                model.zero_grad(set_to_none=True)
            else:
                with torch.no_grad():
                    model(image)
            timings.append(time.perf_counter() - start)
    steady = sorted(timings[1:])
    return dict(latency=steady[len(steady) // 2], saved_mb=sum(saved_storages.values()) / 2**20,
                peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def main() -> None:
    args = parse_args()
    if args.worker:
        print(json.dumps(run_worker(json.loads(args.worker))))
        return
    rows = []
    for mode in args.modes:
        for train, attention, with_cp in [(False, 'fused', None), (False, 'math', None),
                                          (True, 'fused', None), (True, 'fused', [0, 0, 8, 0])]:
            spec = dict(arch=args.arch, mode=mode, attention=attention, with_cp=with_cp, train=train,
                        size=args.size, batch=args.batch, threads=args.threads, repeat=args.repeat)
            out = subprocess.run([sys.executable, __file__, '--worker', json.dumps(spec)], capture_output=True,
                                 text=True, check=True)
            result = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append((mode, 'train (fwd+bwd)' if train else 'inference', attention,
                         'stage 3: 8 blocks' if with_cp else 'off', result['latency'],
                         f"{result['saved_mb']:.0f}" if train else '-', result['peak_rss_mb']))
    print(f'UniFormer2D arch={args.arch}, input {args.batch}x3x{args.size[0]}x{args.size[1]}, '
          f'{args.threads} CPU threads, median of {args.repeat} runs after a warm-up\n')
    print('| stage 3 | pass | attention | with_cp | latency (s) | saved for backward (MB) | peak RSS (MB) |')
    print('|---|---|---|---|---|---|---|')
    for mode, phase, attention, with_cp, latency, saved, rss in rows:
        print(f'| {mode} | {phase} | {attention} | {with_cp} | {latency:.2f} | {saved} | {rss:.0f} |')


if __name__ == '__main__':
    main()
