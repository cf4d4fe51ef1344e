"""Prints parameters and FLOPs of shipped dense-prediction and ImageNet configs, counted as the reference release
counted its published figures (see uniformer_mm.apis.complexity): the metafiles' ``Parameters``, ``FLOPs Input`` and
``FLOPs``, from which the model-zoo tables of docs/model_zoo.md are generated.

Example:
    python tools/analysis_tools/analyze_model_zoo.py configs/mmseg/*.py
    python tools/analysis_tools/analyze_model_zoo.py configs/mmpretrain/*.py
"""
import argparse
from pathlib import Path

import torch

from uniformer_mm.apis import count_complexity, format_gflops


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('configs', nargs='+')
    parser.add_argument('--threads', type=int, default=2, help='CPU threads for the forward passes')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    print(f"| {'config':<78} | params | input | GFLOPs |")
    print(f"|{'-' * 80}|--------|-------|--------|")
    for config in args.configs:
        complexity = count_complexity(config)
        height, width = complexity.input_size
        print(f'| {Path(config).name:<78} | {complexity.params / 1e6:5.1f}M | {height}x{width} '
              f'| {format_gflops(complexity.flops)[:-1]:>6} |', flush=True)


if __name__ == '__main__':
    main()
