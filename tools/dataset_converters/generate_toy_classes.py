"""Writes a small image-classification dataset in the class-per-folder layout of ImageNet's training set.

Each image shows one filled shape (the class: square, disc or triangle) of random size, rotation, position and
colour on a smooth noisy background, so only the outline tells the classes apart::

    OUT/train/square/000000.jpg ...  OUT/train/disc/...  OUT/train/triangle/...
    OUT/val/square/...               OUT/val/disc/...    OUT/val/triangle/...

mmpretrain's ``CustomDataset`` reads it as it reads any folder of one sub-folder per class
(``data_prefix='train'``, no annotation file); the class names are the folder names, in sorted order.

Example:
    python tools/dataset_converters/generate_toy_classes.py data/toy_classes --train 64 --val 16
"""
import argparse
from pathlib import Path

import cv2
import numpy as np

from uniformer_mm.apis.toy_shapes import SHAPES, background, shape_polygon


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('out', type=Path, help='dataset folder')
    parser.add_argument('--train', type=int, default=64, help='training images per class')
    parser.add_argument('--val', type=int, default=16, help='validation images per class')
    parser.add_argument('--size', type=int, default=96, help='image height and width')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args()


def shape_image(shape: str, size: int, rng: np.random.Generator) -> np.ndarray:
    image = background(size, rng)
    radius = rng.uniform(0.2, 0.4) * size
    centre = rng.uniform(radius, size - radius, 2)
    polygon = shape_polygon(shape, centre, radius, rng.uniform(0, 2 * np.pi))
    colour = tuple(int(c) for c in rng.integers(130, 256, 3))
    cv2.fillPoly(image, [np.round(polygon).astype(np.int32)], colour, lineType=cv2.LINE_AA)
    return image


def main() -> None:
    args = parse_args()
    rng = np.random.default_rng(args.seed)
    for split, per_class in (('train', args.train), ('val', args.val)):
        for shape in SHAPES:
            folder = args.out / split / shape
            folder.mkdir(parents=True, exist_ok=True)
            for index in range(per_class):
                cv2.imwrite(str(folder / f'{index:06d}.jpg'), shape_image(shape, args.size, rng))
    print(f'wrote {args.out}: {len(SHAPES)} classes ({", ".join(sorted(SHAPES))}), '
          f'{args.train} training and {args.val} validation images per class, {args.size}x{args.size}')


if __name__ == '__main__':
    main()
