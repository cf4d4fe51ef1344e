"""Prints parameters and FLOPs of the shipped dense-prediction and ImageNet configs, for the README's model-zoo tables.

FLOPs are counted by torch's FlopCounterMode at the input sizes the reference release reports them for
(detection 800x1280, segmentation 512x2048, pose the model's input size, classification the test pipeline's
centre crop: 224 or 384), over what the release's get_flops counted: classifiers, segmentors and pose models one
forward in ``mode='tensor'`` (backbone and classifier head; decode head, no auxiliary head; backbone and heatmap
head), detectors backbone + neck + RPN head, then every RoI stage's box head on 1000 RoIs and mask
head on 100 (mmdet 2.x ``forward_dummy``; mmdet 3.x's tensor mode would run the mask heads on all 1000).
Attention goes through the math path, since FlopCounterMode has no formula for the fused CPU kernel. Like the
published figures they are multiply-accumulates counted as one FLOP ("GFLOPs" in OpenMMLab tables); ops
without a formula (RoIAlign, NMS) are not counted.

Example:
    python tools/analysis_tools/analyze_model_zoo.py configs/mmseg/*.py
    python tools/analysis_tools/analyze_model_zoo.py configs/mmpretrain/*.py
"""
import argparse
import sys
from pathlib import Path

import torch
from mmengine.config import Config
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tools/: the run harness
from harness import build_model_from_config  # noqa: E402

INPUT_SIZES = {'mmdet': (800, 1280), 'mmseg': (512, 2048)}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('configs', nargs='+')
    parser.add_argument('--threads', type=int, default=2, help='CPU threads for the forward passes')
    return parser.parse_args()


def input_size(cfg: Config) -> tuple:
    """(height, width) the FLOPs are counted at."""
    if cfg.default_scope == 'mmpose':
        width, height = cfg.codec.input_size
        return height, width
    if cfg.default_scope == 'mmpretrain':
        crop = next(t for t in cfg.test_dataloader.dataset.pipeline if t.type == 'CenterCrop').crop_size
        if isinstance(crop, int):
            return crop, crop
        width, height = crop  # mmcv's CenterCrop takes (w, h)
        return height, width
    return INPUT_SIZES[cfg.default_scope]


def run_detector(model: torch.nn.Module, inputs: torch.Tensor) -> None:
    """What mmdet 2.x's ``forward_dummy`` ran for a two-stage detector with a mask head."""
    from mmdet.structures.bbox import bbox2roi
    features = model.extract_feat(inputs)
    model.rpn_head(features)
    height, width = inputs.shape[-2:]
    corners = torch.rand(1000, 2) * torch.tensor([width / 2, height / 2])
    rois = bbox2roi([torch.cat([corners, corners + 64], dim=1)])
    roi_head = model.roi_head
    stages = [(s, ) for s in range(roi_head.num_stages)] if hasattr(roi_head, 'num_stages') else [()]
    for stage in stages:
        roi_head._bbox_forward(*stage, features, rois)
        roi_head._mask_forward(*stage, features, rois[:100])


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    print(f"| {'config':<78} | params | input | GFLOPs |")
    print(f"|{'-' * 80}|--------|-------|--------|")
    for config in args.configs:
        cfg = Config.fromfile(config)
        cfg.model.backbone.init_cfg = None
        model = build_model_from_config(cfg).eval()
        height, width = input_size(cfg)
        inputs = torch.randn(1, 3, height, width)
        counter = FlopCounterMode(display=False)
        with torch.no_grad(), counter, sdpa_kernel([SDPBackend.MATH]):
            if cfg.default_scope == 'mmdet':
                run_detector(model, inputs)
            else:
                model(inputs, None, mode='tensor')
        params = sum(p.numel() for p in model.parameters())
        gflops = counter.get_total_flops() / 2e9
        shown = f'{gflops:6.1f}' if gflops < 100 else f'{gflops:6.0f}'
        print(f'| {Path(config).name:<78} | {params / 1e6:5.1f}M | {height}x{width} | {shown} |', flush=True)


if __name__ == '__main__':
    main()
