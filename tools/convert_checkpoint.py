"""Converts an official UniFormer checkpoint into an OpenMMLab 2.0 model checkpoint for ``mim test``.

Formats:
    slowfast-video   official Kinetics video models ({'model_state': ...}) -> mmaction2 Recognizer3D + I3DHead

Example:
    python tools/convert_checkpoint.py slowfast-video uniformer_small_k400_16x4.pth uniformer3d-s_k400_16x4_mmaction.pth
"""
import argparse

import torch

from uniformer_mm.checkpoint_conversion import slowfast_video_to_mmaction

CONVERTERS = {'slowfast-video': slowfast_video_to_mmaction}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('format', choices=sorted(CONVERTERS))
    parser.add_argument('src')
    parser.add_argument('dst')
    args = parser.parse_args()
    converted = CONVERTERS[args.format](torch.load(args.src, map_location='cpu'))
    torch.save(converted, args.dst)
    meta = converted['meta']
    print(f"wrote {args.dst}: {len(converted['state_dict'])} tensors, arch {meta['arch']}, "
          f"{meta['num_classes']} classes")


if __name__ == '__main__':
    main()
