"""Prints parameters and FLOPs of the shipped dense-prediction configs, for the README's model-zoo tables.

FLOPs are counted at the input sizes the reference release reports them for (detection 800x1280, segmentation
512x2048, pose the model's input size) by torch's FlopCounterMode over one forward in ``mode='tensor'`` (what
the codebases' get_flops tools run: for two-stage detectors the RoI heads on the RPN's proposals), through the
math attention path, since FlopCounterMode has no formula for the fused CPU attention kernel. Like the
published figures they are multiply-accumulates counted as one FLOP ("GFLOPs" in OpenMMLab tables); ops
without a formula (RoIAlign, NMS) are not counted.

Example:
    python tools/analyze_model_zoo.py configs/mmseg/*.py
"""
import argparse
import time
from pathlib import Path

import torch
from mmengine.config import Config
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from uniformer_mm.models import build_model_from_config

INPUT_SIZES = {'mmdet': (800, 1280), 'mmseg': (512, 2048)}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('configs', nargs='+')
    parser.add_argument('--threads', type=int, default=2)
    return parser.parse_args()


def input_size(cfg: Config) -> tuple:
    if cfg.default_scope == 'mmpose':
        width, height = cfg.codec.input_size
        return height, width
    return INPUT_SIZES[cfg.default_scope]


def data_samples(cfg: Config, height: int, width: int) -> list:
    """The one data sample a forward in tensor mode needs (detectors read the image shape from it)."""
    if cfg.default_scope != 'mmdet':
        return None
    from mmdet.structures import DetDataSample
    meta = dict(img_shape=(height, width), ori_shape=(height, width), pad_shape=(height, width),
                batch_input_shape=(height, width), scale_factor=(1.0, 1.0))
    return [DetDataSample(metainfo=meta)]


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    print(f"| {'config':<78} | params | input | GFLOPs | s/forward |")
    print(f"|{'-' * 80}|--------|-------|--------|-----------|")
    for config in args.configs:
        cfg = Config.fromfile(config)
        cfg.model.backbone.init_cfg = None
        model = build_model_from_config(cfg).eval()
        height, width = input_size(cfg)
        inputs = torch.randn(1, 3, height, width)
        counter = FlopCounterMode(display=False)
        with torch.no_grad(), counter, sdpa_kernel([SDPBackend.MATH]):
            start = time.perf_counter()
            model(inputs, data_samples(cfg, height, width), mode='tensor')
            seconds = time.perf_counter() - start
        params = sum(p.numel() for p in model.parameters())
        print(f'| {Path(config).name:<78} | {params / 1e6:5.1f}M | {height}x{width} | '
              f'{counter.get_total_flops() / 2e9:6.0f} | {seconds:9.1f} |', flush=True)


if __name__ == '__main__':
    main()
