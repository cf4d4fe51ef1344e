"""Exports the backbone, or the network of a shipped config, to ONNX with dynamic sizes, and checks the file.

One exported file serves every batch size, height and width from 64x64 up (and frame count for video); the
file is traced at a generic size whatever ``--shape`` says, which is only the first shape it is checked at.
``--verify-shape`` runs the file in ONNX Runtime at other sizes and compares each
output with PyTorch's (relative error: max |ONNX - PyTorch| / max |PyTorch|); the tool fails when one exceeds
``--rtol`` or holds NaN or inf. PyTorch's own outputs at ``--shape`` are checked first, so that weights that give
NaN or inf stop the tool before the export (tens of seconds) rather than after it. Without a checkpoint the
model is checked as initialised (a light model's class token drawn, see :func:`draw_class_token`).

``--part model`` exports the network as the codebase's tensor mode runs it, from normalised inputs to raw
outputs: class logits (mmpretrain, mmaction2; one row per clip), segmentation logits at 1/4 of the input size
(mmseg), keypoint heatmaps (mmpose). Pre-processing (mean / std) and post-processing stay outside, as in
mmdeploy. Detectors need their post-processing in the graph; export them with mmdeploy (docs/deployment.md).

Example:
    python tools/deployment/pytorch2onnx.py configs/mmseg/upernet_uniformer-s-h14_8xb2-160k_ade20k-512x512.py \
        --part backbone --shape 1 3 800 1344 --verify-shape 1 3 800 1216 --verify-shape 2 3 640 960
"""
import argparse
from pathlib import Path
from typing import List, Sequence

import onnxruntime
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.runner import load_checkpoint

import uniformer_mm  # noqa: F401  (registers the backbones and the safe checkpoint loader)
from uniformer_mm.apis import build_model_from_config
from uniformer_mm.deployment import check_finite, export_onnx, make_upsampling_traceable_, relative_errors

# What ``--part model`` exports per codebase: the network in tensor mode.
TENSOR_MODE = {'mmpretrain', 'mmseg', 'mmpose'}


class VideoRecognizerNetwork(nn.Module):
    """mmaction2 recognizer from (B, C, T, H, W) clips to one row of class logits per clip (tensor mode would
    take (B, views, C, T, H, W) and return the backbone's features)."""

    def __init__(self, recognizer: nn.Module) -> None:
        super().__init__()
        self.recognizer = recognizer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = self.recognizer.backbone(x)
        if self.recognizer.with_neck:
            feats, _ = self.recognizer.neck(feats)
        return self.recognizer.cls_head(feats)


class TensorModeNetwork(nn.Module):
    """An OpenMMLab model's ``forward(inputs, mode='tensor')``."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor):
        return self.model(x, None, mode='tensor')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='a config of configs/ (any codebase)')
    parser.add_argument('checkpoint', nargs='?', help='trained weights (the whole model); none: as initialised')
    parser.add_argument('--part', choices=('backbone', 'model'), default='backbone')
    parser.add_argument('--shape', type=int, nargs='+', help='example input, B C H W or B C T H W '
                        '(default 1 3 224 224, or 1 3 16 224 224 for video)')
    parser.add_argument('--verify-shape', type=int, nargs='+', action='append', default=[],
                        help='also compare ONNX Runtime with PyTorch at this input shape (repeatable)')
    parser.add_argument('--static', action='store_true', help='fix the example shape instead of dynamic sizes')
    parser.add_argument('--rtol', type=float, default=1e-5, help='largest relative error accepted')
    parser.add_argument('--output-file', help='default: work_dirs/onnx/{config name}_{part}.onnx')
    return parser.parse_args()


def network_to_export(model: nn.Module, codebase: str, part: str) -> nn.Module:
    if part == 'backbone':
        return model.backbone
    if codebase == 'mmaction':
        return VideoRecognizerNetwork(model)
    if codebase in TENSOR_MODE:
        return TensorModeNetwork(model)
    raise SystemExit(f'--part model is not offered for {codebase}: a detector needs its box post-processing in '
                     'the graph; convert it with mmdeploy (docs/deployment.md) or export --part backbone')


def output_errors(session, inputs: torch.Tensor, network: nn.Module) -> List[float]:
    with torch.no_grad():
        expected = network(inputs)
    expected = [expected] if isinstance(expected, torch.Tensor) else list(expected)
    outputs = session.run(None, {session.get_inputs()[0].name: inputs.numpy()})
    try:
        return relative_errors(outputs, expected)
    except ValueError as error:
        raise SystemExit(f'ONNX Runtime against PyTorch at input {tuple(inputs.shape)}: {error}')


def check_outputs_are_finite(network: nn.Module, inputs: torch.Tensor) -> None:
    """Stops when PyTorch's own outputs hold NaN or inf: the weights are broken, and no export can be checked
    against them."""
    with torch.no_grad():
        outputs = network(inputs)
    try:
        check_finite([outputs] if isinstance(outputs, torch.Tensor) else outputs, 'PyTorch output',
                     where=f' at input {tuple(inputs.shape)}')
    except ValueError as error:
        raise SystemExit(f'{error}: check the checkpoint; nothing was exported')


def draw_class_token(model: nn.Module) -> None:
    """Without a checkpoint, the light models' class token is zero as initialised (as in the release), so the
    first pruning block scores every token the same and later scores nearly tie: two runtimes then keep different
    tokens of a tied pair, and the check would compare tie-breaking rather than the export. A drawn token (std
    0.02, seeded) scores like a trained one; the exported graph is the same."""
    backbone = getattr(model, 'backbone', model)
    if isinstance(getattr(backbone, 'cls_token', None), nn.Parameter):
        with torch.no_grad():
            nn.init.trunc_normal_(backbone.cls_token, std=.02, generator=torch.Generator().manual_seed(0))
        print('no checkpoint: the class token drawn (std 0.02) so that the untrained token scores do not tie')


def check_shape(shape: Sequence[int], video: bool) -> torch.Size:
    expected = 5 if video else 4
    if len(shape) != expected:
        layout = 'B C T H W' if video else 'B C H W'
        raise SystemExit(f'an input shape here has {expected} numbers ({layout}), got {list(shape)}')
    return torch.Size(shape)


def main() -> None:
    args = parse_args()
    cfg = Config.fromfile(args.config)
    model = build_model_from_config(cfg)
    if args.checkpoint:
        load_checkpoint(model, args.checkpoint, map_location='cpu', strict=True)
    else:
        draw_class_token(model)
    model.eval()
    codebase = cfg.default_scope
    video = codebase == 'mmaction'
    shape = check_shape(args.shape or ([1, 3, 16, 224, 224] if video else [1, 3, 224, 224]), video)
    network = network_to_export(model, codebase, args.part).eval()
    make_upsampling_traceable_(network)
    check_outputs_are_finite(network, torch.randn(shape))
    output_file = Path(args.output_file or f'work_dirs/onnx/{Path(args.config).stem}_{args.part}.onnx')
    output_names = export_onnx(network, torch.randn(shape), output_file, dynamic=not args.static)
    print(f'wrote {output_file} ({output_file.stat().st_size / 2**20:.1f} MiB), outputs {", ".join(output_names)}')

    session = onnxruntime.InferenceSession(str(output_file), providers=['CPUExecutionProvider'])
    worst = 0.
    for verify_shape in [list(shape)] + args.verify_shape:
        errors = output_errors(session, torch.randn(check_shape(verify_shape, video)), network)
        worst = max(worst, *errors)
        print(f'input {verify_shape}: relative error per output ' + ' '.join(f'{e:.1e}' for e in errors))
    if worst > args.rtol:
        raise SystemExit(f'ONNX Runtime and PyTorch differ by {worst:.1e} > --rtol {args.rtol:.0e}')


if __name__ == '__main__':
    main()
