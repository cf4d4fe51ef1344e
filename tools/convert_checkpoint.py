"""Converts an official UniFormer checkpoint into an OpenMMLab 2.0 model checkpoint for ``mim test``.

Formats:
    slowfast-video   official Kinetics video models ({'model_state': ...}) -> mmaction2 Recognizer3D + I3DHead
    openmmlab1       official COCO / ADE20K / pose models (mmdet 2.x, mmseg 0.x, mmpose 0.x) -> the model of
                     --config, checked tensor by tensor (see uniformer_mm.checkpoint_conversion)

Examples:
    python tools/convert_checkpoint.py slowfast-video uniformer_small_k400_16x4.pth uniformer3d-s_k400_16x4_mmaction.pth
    python tools/convert_checkpoint.py openmmlab1 mask_rcnn_1x_hybrid_small.pth mask-rcnn_uniformer-s-h14_coco.pth \\
        --config configs/mmdet/mask-rcnn_uniformer-s-h14_fpn_1x_coco.py
"""
import argparse

import torch

from uniformer_mm.checkpoint_conversion import openmmlab1_to_openmmlab2, slowfast_video_to_mmaction
from uniformer_mm.models import build_model_from_config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('format', choices=('slowfast-video', 'openmmlab1'))
    parser.add_argument('src')
    parser.add_argument('dst')
    parser.add_argument('--config', help='the OpenMMLab 2.0 config of the model (openmmlab1 format)')
    args = parser.parse_args()
    checkpoint = torch.load(args.src, map_location='cpu')
    if args.format == 'slowfast-video':
        converted = slowfast_video_to_mmaction(checkpoint)
        summary = f"arch {converted['meta']['arch']}, {converted['meta']['num_classes']} classes"
    else:
        if not args.config:
            parser.error('openmmlab1 needs --config, the config the converted checkpoint is meant for')
        converted = openmmlab1_to_openmmlab2(checkpoint, build_model_from_config(args.config))
        summary = f'fits {args.config}'
    torch.save(converted, args.dst)
    print(f"wrote {args.dst}: {len(converted['state_dict'])} tensors, {summary}")


if __name__ == '__main__':
    main()
