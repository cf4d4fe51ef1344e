"""Parameters and FLOPs of the shipped dense-prediction and ImageNet configs, counted as the reference release
counted the figures it published (the model-zoo tables and the metafiles' ``FLOPs``).

FLOPs are counted by torch's FlopCounterMode at the input sizes the reference release reports them for
(detection 800x1280, segmentation 512x2048, pose the model's input size, classification the test pipeline's
centre crop: 224 or 384), over what the release's get_flops counted: classifiers, segmentors and pose models one
forward in ``mode='tensor'`` (backbone and classifier head; decode head, no auxiliary head; backbone and heatmap
head), detectors backbone + neck + RPN head, then every RoI stage's box head on 1000 RoIs and mask
head on 100 (mmdet 2.x ``forward_dummy``; mmdet 3.x's tensor mode would run the mask heads on all 1000).
Attention goes through the math path, since FlopCounterMode has no formula for the fused CPU kernel. Like the
published figures they are multiply-accumulates counted as one FLOP ("GFLOPs" in OpenMMLab tables); ops
without a formula (RoIAlign, NMS) are not counted.
"""
import copy
from typing import NamedTuple, Tuple, Union

import torch
import torch.nn as nn
from mmengine.config import Config
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from .runs import build_model_from_config

# (height, width) of the release's detection and segmentation figures; pose and classification configs say theirs.
INPUT_SIZES = {'mmdet': (800, 1280), 'mmseg': (512, 2048)}


class ModelComplexity(NamedTuple):
    """What :func:`count_complexity` measured."""
    params: int
    input_size: Tuple[int, int]  # (height, width)
    flops: float  # multiply-accumulates, each one FLOP


def input_size(cfg: Config) -> Tuple[int, int]:
    """(height, width) the FLOPs of a config's model are counted at.

    Args:
        cfg: A shipped mmdet, mmseg, mmpose or mmpretrain config.
    """
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


def _run_detector(model: nn.Module, inputs: torch.Tensor) -> None:
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


def count_complexity(config: Union[str, Config]) -> ModelComplexity:
    """Parameters and FLOPs of a config's model, counted as the reference release counted them (module docstring).

    The model is built without its pretrained weights (``backbone.init_cfg = None``), which do not change the
    counts.

    Args:
        config: A shipped mmdet, mmseg, mmpose or mmpretrain config: its file or the loaded :class:`Config`
            (left unchanged).
    """
    cfg = Config.fromfile(config) if isinstance(config, str) else copy.deepcopy(config)
    cfg.model.backbone.init_cfg = None
    model = build_model_from_config(cfg).eval()
    height, width = input_size(cfg)
    inputs = torch.randn(1, 3, height, width)
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter, sdpa_kernel([SDPBackend.MATH]):
        if cfg.default_scope == 'mmdet':
            _run_detector(model, inputs)
        else:
            model(inputs, None, mode='tensor')
    params = sum(p.numel() for p in model.parameters())
    return ModelComplexity(params, (height, width), counter.get_total_flops() / 2)


def format_gflops(flops: float) -> str:
    """FLOPs in G as the model-zoo tables and metafiles write them: one decimal below 100G, none from 100G.

    Args:
        flops: A count of :func:`count_complexity`.
    """
    gflops = flops / 1e9
    return f'{gflops:.1f}G' if round(gflops, 1) < 100 else f'{gflops:.0f}G'
