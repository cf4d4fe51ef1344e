"""Converts an official UniFormer checkpoint into an OpenMMLab 2.0 model checkpoint for ``mim test``.

Formats:
    slowfast-video   official Kinetics video models ({'model_state': ...}) -> mmaction2 Recognizer3D + I3DHead;
                     with --src-labels/--dst-labels the classifier rows are reordered by class name
    openmmlab1       official COCO / ADE20K / pose models (mmdet 2.x, mmseg 0.x, mmpose 0.x) -> the model of
                     --config, checked tensor by tensor (see uniformer_mm/apis/convert.py)
    imagenet         official ImageNet classifiers ({'model': ...}, standard or token-labeling release) -> the
                     mmpretrain ImageClassifier of --config (a configs/mmpretrain config), strictly

The source file is read by uniformer_mm's checkpoint reader (uniformer_mm.checkpoint_safety); label files are UTF-8.

Examples:
    python tools/convert_checkpoint.py slowfast-video uniformer_small_k400_16x4.pth uniformer3d-s_k400_16x4.pth \\
        --src-labels tools/data/kinetics/label_map_k400_uniformer_release.txt \\
        --dst-labels tools/data/kinetics/label_map_k400.txt
    python tools/convert_checkpoint.py openmmlab1 mask_rcnn_1x_hybrid_small.pth mask-rcnn_uniformer-s-h14_coco.pth \\
        --config configs/mmdet/mask-rcnn_uniformer-s-h14_fpn_1x_coco.py
    python tools/convert_checkpoint.py imagenet uniformer_small_in1k.pth uniformer-small_in1k_mmpretrain.pth \\
        --config configs/mmpretrain/uniformer-small_8xb128_in1k.py
"""
import argparse
import sys

import torch

from uniformer_mm.apis import (build_model_from_config, imagenet_to_mmpretrain, openmmlab1_to_openmmlab2,
                               slowfast_video_to_mmaction)
from uniformer_mm.checkpoint_safety import load_checkpoint_file


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('format', choices=('slowfast-video', 'openmmlab1', 'imagenet'),
                        help='layout of the source checkpoint')
    parser.add_argument('src', help='the official checkpoint file')
    parser.add_argument('dst', help='where to write the converted checkpoint')
    parser.add_argument('--config', help='the OpenMMLab 2.0 config of the model (openmmlab1 and imagenet formats)')
    parser.add_argument('--src-labels', help='slowfast-video: label file of the checkpoint\'s class order, one name '
                        'a line (the release: tools/data/kinetics/label_map_k400_uniformer_release.txt)')
    parser.add_argument('--dst-labels', help='slowfast-video: label file of the class order to write '
                        '(mmaction2: tools/data/kinetics/label_map_k400.txt). Where the wheel is installed, '
                        'python -m uniformer_mm.shipped tools/data/kinetics/... prints the path of either')
    args = parser.parse_args()
    if args.format in ('openmmlab1', 'imagenet') and not args.config:
        parser.error(f'{args.format} needs --config, the config the converted checkpoint is meant for')
    if (args.src_labels is None) != (args.dst_labels is None):
        parser.error('give both --src-labels and --dst-labels, or neither')
    return args


def main() -> None:
    args = parse_args()
    try:
        checkpoint = load_checkpoint_file(args.src, map_location='cpu')
        if args.format == 'slowfast-video':
            converted = slowfast_video_to_mmaction(checkpoint, args.src_labels, args.dst_labels)
            order = ('classes reordered by name to ' + args.dst_labels if args.src_labels else
                     "classes in the checkpoint's own order (give --src-labels/--dst-labels to reorder them)")
            summary = (f"arch {converted['meta']['arch']}, {converted['meta']['num_classes']} classes, "
                       f"for {converted['meta']['head']}, {order}")
        elif args.format == 'imagenet':
            converted = imagenet_to_mmpretrain(checkpoint, build_model_from_config(args.config), args.src)
            summary = f"{converted['meta']['num_classes']} classes, fits {args.config}"
        else:
            converted = openmmlab1_to_openmmlab2(checkpoint, build_model_from_config(args.config))
            summary = f'fits {args.config}'
    except (OSError, ValueError) as error:  # missing/unreadable files, refused or mismatched checkpoints
        sys.exit(f'convert_checkpoint.py: error: {type(error).__name__}: {error}')
    torch.save(converted, args.dst)
    print(f"wrote {args.dst}: {len(converted['state_dict'])} tensors, {summary}")


if __name__ == '__main__':
    main()
