"""The fast CPU inference path (``--deploy``, ``--compile``, ``--channels-last``) of the tools and demos."""
import argparse

import torch
import torch.nn as nn


def add_inference_speed_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the options of :func:`speed_up_for_inference` to a command line.

    Args:
        parser: The parser of a tool or demo that runs inference.
    """
    parser.add_argument('--deploy', action='store_true',
                        help="fold the backbone's BatchNorms and position-embedding identities (switch_to_deploy)")
    parser.add_argument('--compile', action='store_true', help='torch.compile the backbone (first batch compiles)')
    parser.add_argument('--channels-last', action='store_true', help='run the convolutions channels-last')


def speed_up_for_inference(model: nn.Module, deploy: bool = False, compile: bool = False,
                           channels_last: bool = False) -> nn.Module:
    """Applies the fast CPU path to a built model whose weights are loaded (in place; returns it).

    Args:
        model: An OpenMMLab model with a UniFormer ``backbone``.
        deploy: ``backbone.switch_to_deploy()``: inference only from then on.
        compile: Replace the backbone by ``torch.compile(backbone)`` (the detectors' and segmentors' heads have
            data-dependent post-processing, and the backbone is where the time goes).
        channels_last: Weights in channels-last layout (channels_last_3d for video), which the convolutions
            then propagate to their outputs.
    """
    if deploy:
        model.backbone.switch_to_deploy()
    if channels_last:
        for param in model.parameters():
            layout = {4: torch.channels_last, 5: torch.channels_last_3d}.get(param.dim())
            if layout is not None:
                param.data = param.data.contiguous(memory_format=layout)
    if compile:
        model.backbone = torch.compile(model.backbone)
    return model
