"""Speed of the light UniFormers beside UniFormer-S, and what token pruning saves, in one run.

Prints, for 2D inputs at each ``--size``: CPU latency per image of UniFormer2D XXS, XS and S (inference, the
dense backbone), interleaved so that they share the machine's state; and for XXS the time spent in stages 3-4
with token pruning on (the release's model) and off (the same blocks attending over every token; not a released
model, only the reference for what pruning saves).

Example:
    python tools/analysis_tools/benchmark_light.py --size 224 224 --size 800 1344 --threads 2
"""
import argparse
import statistics
import time

import torch

from uniformer_mm import UniFormer2D
from uniformer_mm.models.backbones.uniformer import TokenPruningBlock


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--size', type=int, nargs=2, action='append', metavar=('H', 'W'),
                        help='input size (repeatable); default 224x224 and 800x1344')
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--repeat', type=int, default=5, help='timed rounds after one warm-up round')
    return parser.parse_args()


def stage34_timer(model: UniFormer2D) -> list:
    """Records, per forward, the seconds from entering stage 3's patch embedding to leaving stage 4."""
    spans, start = [], []
    model.patch_embed3.register_forward_pre_hook(lambda module, args: start.append(time.perf_counter()))
    model.blocks4[-1].register_forward_hook(lambda module, args, out: spans.append(time.perf_counter() - start[-1]))
    return spans


def without_pruning(model: UniFormer2D) -> UniFormer2D:
    for module in model.modules():
        if isinstance(module, TokenPruningBlock):
            module.keep_ratio = 1.
    return model


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    sizes = args.size or [[224, 224], [800, 1344]]
    print(f'UniFormer2D dense backbones, inference, batch 1, {args.threads} CPU threads, median of {args.repeat} '
          'interleaved rounds after a warm-up\n')
    print('| input | model | latency (ms) | stages 3-4 (ms) |')
    print('|---|---|---|---|')
    for height, width in sizes:
        models = {'XXS': UniFormer2D(arch='xxs').eval(), 'XXS, pruning off': without_pruning(
            UniFormer2D(arch='xxs').eval()), 'XS': UniFormer2D(arch='xs').eval(),
            'S': UniFormer2D(arch='small').eval()}
        stage_spans = {name: stage34_timer(model) for name, model in models.items()}
        latencies = {name: [] for name in models}
        image = torch.randn(1, 3, height, width)
        with torch.no_grad():
            for round_index in range(args.repeat + 1):
                for name, model in models.items():
                    start = time.perf_counter()
                    model(image)
                    if round_index:
                        latencies[name].append(time.perf_counter() - start)
        for name in models:
            stages = statistics.median(stage_spans[name][1:]) * 1e3
            print(f'| {height}x{width} | {name} | {statistics.median(latencies[name]) * 1e3:.1f} | {stages:.1f} |',
                  flush=True)


if __name__ == '__main__':
    main()
