"""The fast CPU inference path of the tools and demos: ``--deploy``, ``--compile``, ``--channels-last``,
``--precision`` and ``--backend``."""
import argparse
from typing import Optional, Sequence

import torch
import torch.nn as nn

from .precision import (PRECISIONS, TORCH_DTYPES, AutocastBackbone, OpenVINOBackbone, calibration_dataloader,
                        check_precision_is_native, collect_backbone_inputs, describe_cpu_support)

BACKENDS = ('pytorch', 'openvino')


def add_inference_speed_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the options of :func:`speed_up_for_inference` to a command line.

    Args:
        parser: The parser of a tool or demo that runs inference.
    """
    parser.add_argument('--deploy', action='store_true',
                        help="fold the backbone's BatchNorms and position-embedding identities (switch_to_deploy)")
    parser.add_argument('--compile', action='store_true',
                        help='torch.compile the backbone with inductor freezing (first batch compiles)')
    parser.add_argument('--channels-last', action='store_true', help='run the convolutions channels-last')
    parser.add_argument('--precision', choices=PRECISIONS, default='fp32',
                        help='what the backbone computes in: bf16 / fp16 by CPU autocast (pytorch) or OpenVINO '
                        "precision hint; int8 by NNCF post-training quantization (openvino only). The heads stay "
                        'float32. Refused where the CPU would emulate it, unless --allow-emulated')
    parser.add_argument('--backend', choices=BACKENDS, default='pytorch',
                        help='run the backbone in PyTorch, or export it to ONNX and run it in OpenVINO')
    parser.add_argument('--allow-emulated', action='store_true',
                        help='run a precision this CPU has no instructions for (same numerics, slower than fp32)')
    parser.add_argument('--calibration-samples', type=int, default=32,
                        help='int8: training samples (through the test pipeline) to calibrate on')


def speed_up_from_args(model: nn.Module, args: argparse.Namespace, cfg=None) -> nn.Module:
    """:func:`speed_up_for_inference` with the options :func:`add_inference_speed_arguments` parsed; for int8,
    first draws the calibration inputs from ``cfg``'s training data through its test pipeline."""
    check_precision_is_native(args.precision, args.allow_emulated)
    calibration = None
    if args.precision == 'int8':
        if cfg is None:
            raise ValueError('int8 calibrates on the config\'s training data; this tool has no config to draw it from')
        loader = calibration_dataloader(cfg, args.calibration_samples)
        calibration = collect_backbone_inputs(model, loader, args.calibration_samples)
    return speed_up_for_inference(model, args.deploy, args.compile, args.channels_last, args.precision, args.backend,
                                  args.allow_emulated, calibration)


def speed_up_for_inference(model: nn.Module,
                           deploy: bool = False,
                           compile: bool = False,
                           channels_last: bool = False,
                           precision: str = 'fp32',
                           backend: str = 'pytorch',
                           allow_emulated: bool = False,
                           calibration: Optional[Sequence[torch.Tensor]] = None,
                           example_input: Optional[torch.Tensor] = None) -> nn.Module:
    """Applies the fast CPU path to a built model whose weights are loaded (in place; returns it).

    Only the backbone changes: it is where the time goes, and the lower-precision runners hand its outputs back
    in float32, so heads and post-processing run as they always do.

    Args:
        model: An OpenMMLab model with a UniFormer ``backbone``.
        deploy: ``backbone.switch_to_deploy()``: inference only from then on.
        compile: Replace the backbone by ``torch.compile(backbone)`` with inductor's freezing (weights, and their
            casts to ``precision``, folded into constants: inference only). The detectors' and segmentors' heads
            have data-dependent post-processing, and the backbone is where the time goes.
        channels_last: Weights in channels-last layout (channels_last_3d for video), which the convolutions
            then propagate to their outputs.
        precision: 'fp32'; 'bf16' / 'fp16' (pytorch: CPU autocast, :class:`AutocastBackbone`; openvino: its
            precision hint); 'int8' (openvino only: NNCF post-training quantization on ``calibration``).
        backend: 'pytorch', or 'openvino' (:class:`OpenVINOBackbone`: the backbone exported to ONNX once and
            compiled per input shape; ``deploy``, ``compile`` and ``channels_last`` do not apply).
        allow_emulated: Run a lower precision this CPU has no instructions for; refused otherwise, since it
            would be slower than fp32.
        calibration: int8: backbone inputs from the config's data (see
            :func:`~uniformer_mm.apis.precision.collect_backbone_inputs`).
        example_input: openvino: an input of the backbone's layout to export with; defaults to the first
            calibration input, else a 224x224 image (or 8-frame clip for a 3D backbone).

    Raises:
        ValueError: An unknown precision or backend, int8 on the pytorch backend, a precision the CPU would
            emulate (without ``allow_emulated``), or int8 without calibration inputs.
    """
    check_precision_is_native(precision, allow_emulated)
    if backend not in BACKENDS:
        raise ValueError(f'unknown backend {backend!r}; expected one of {BACKENDS}')
    if backend == 'openvino':
        if example_input is None:
            example_input = calibration[0] if calibration else _default_input(model.backbone)
        model.backbone = OpenVINOBackbone(model.backbone, example_input, precision, calibration)
        return model
    if precision == 'int8':
        raise ValueError("int8 runs through OpenVINO (backend='openvino', NNCF post-training quantization): "
                         'PyTorch 2.14 no longer ships its own int8 flow (torch.ao quantization moved to torchao)')
    if deploy:
        model.backbone.switch_to_deploy()
    if channels_last:
        for param in model.parameters():
            layout = {4: torch.channels_last, 5: torch.channels_last_3d}.get(param.dim())
            if layout is not None:
                param.data = param.data.contiguous(memory_format=layout)
    if precision != 'fp32':
        model.backbone = AutocastBackbone(model.backbone, TORCH_DTYPES[precision])
    if compile:
        model.backbone = torch.compile(model.backbone, options={'freezing': True})
    return model


def _default_input(backbone: nn.Module) -> torch.Tensor:
    if getattr(backbone, 'ndim', 2) == 3:
        return torch.randn(1, getattr(backbone, 'in_channels', 3), 8, 224, 224)
    return torch.randn(1, getattr(backbone, 'in_channels', 3), 224, 224)


def describe_inference_path(precision: str, backend: str) -> str:
    """A log line: the precision, backend and what this CPU runs natively."""
    return f'backbone in {precision} through {backend}; {describe_cpu_support()}'
