"""Writes small dense-prediction datasets in the real COCO / ADE20K formats, with structure a model can learn.

* ``coco``: instance segmentation. Each image shows 1-4 filled shapes (square, disc, triangle: the three
  categories) with random colours on a smooth noisy background; colour says nothing about the category, only
  the outline does. Masks are polygons, as in COCO's instances files::

      OUT/train/000000.jpg ...   OUT/val/...
      OUT/annotations/instances_train.json, OUT/annotations/instances_val.json

* ``ade``: semantic segmentation in ADE20K's folder layout, with the same scenes as label maps
  (0 = unlabelled as in ADE20K, 1 = background, 2 = square, 3 = disc, 4 = triangle)::

      OUT/images/training/000000.jpg ...    OUT/annotations/training/000000.png ...
      OUT/images/validation/...             OUT/annotations/validation/...

* ``keypoints``: COCO person keypoints. Each image shows 1-2 frontal stick figures with the 17 COCO joints
  (nose, eyes, ears, shoulders, elbows, wrists, hips, knees, ankles) in random poses and scales; a joint is
  marked by a small dot where limbs meet, so its position follows from the drawing::

      OUT/train/000000.jpg ...   OUT/val/...
      OUT/annotations/person_keypoints_train.json, OUT/annotations/person_keypoints_val.json

Example:
    python tools/dataset_converters/generate_toy_dense.py all data/toy_dense --train 96 --val 24
"""
import argparse
import json
from pathlib import Path
from typing import Dict, List, Tuple

import cv2
import numpy as np

from uniformer_mm.apis.toy_shapes import SHAPES, background, shape_polygon

# COCO's 17 keypoints and skeleton (1-based joint indices, as in the COCO person category).
KEYPOINTS = ('nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder', 'right_shoulder',
             'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist', 'left_hip', 'right_hip', 'left_knee',
             'right_knee', 'left_ankle', 'right_ankle')
SKELETON = [[16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12], [7, 13], [6, 7], [6, 8], [7, 9], [8, 10],
            [9, 11], [2, 3], [1, 2], [1, 3], [2, 4], [3, 5], [4, 6], [5, 7]]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('kind', choices=('coco', 'ade', 'keypoints', 'all'))
    parser.add_argument('out', type=Path, help="dataset folder ('all' writes OUT/coco, OUT/ade, OUT/keypoints)")
    parser.add_argument('--train', type=int, default=96, help='training images')
    parser.add_argument('--val', type=int, default=24, help='validation images')
    parser.add_argument('--size', type=int, default=160, help='image height and width')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args()


def random_scene(size: int, rng: np.random.Generator) -> Tuple[np.ndarray, List[Tuple[int, np.ndarray]]]:
    """An image and its (category index, polygon) objects, later objects painted over earlier ones."""
    image = background(size, rng)
    objects = []
    for _ in range(int(rng.integers(1, 5))):
        category = int(rng.integers(len(SHAPES)))
        radius = rng.uniform(0.1, 0.22) * size
        centre = rng.uniform(radius, size - radius, 2)
        polygon = shape_polygon(SHAPES[category], centre, radius, rng.uniform(0, 2 * np.pi))
        colour = tuple(int(c) for c in rng.integers(130, 256, 3))
        cv2.fillPoly(image, [np.round(polygon).astype(np.int32)], colour, lineType=cv2.LINE_AA)
        objects.append((category, polygon))
    return image, objects


def visible_mask(objects: List[Tuple[int, np.ndarray]], index: int, size: int) -> np.ndarray:
    """The pixels of object ``index`` not covered by any object painted after it."""
    mask = np.zeros((size, size), np.uint8)
    cv2.fillPoly(mask, [np.round(objects[index][1]).astype(np.int32)], 1)
    for _, later in objects[index + 1:]:
        cv2.fillPoly(mask, [np.round(later).astype(np.int32)], 0)
    return mask


def mask_annotation(mask: np.ndarray) -> Dict:
    """COCO polygons, box and area of a binary mask (its outer contours)."""
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    polygons = [c.reshape(-1).astype(float).tolist() for c in contours if len(c) >= 3]
    x, y, w, h = cv2.boundingRect(mask)
    return dict(segmentation=polygons, bbox=[float(x), float(y), float(w), float(h)], area=float(mask.sum()))


def write_coco_instances(out: Path, splits: Dict[str, int], size: int, rng: np.random.Generator) -> None:
    (out / 'annotations').mkdir(parents=True, exist_ok=True)
    categories = [dict(id=i + 1, name=name, supercategory='shape') for i, name in enumerate(SHAPES)]
    for split, count in splits.items():
        (out / split).mkdir(exist_ok=True)
        images, annotations = [], []
        for index in range(count):
            image, objects = random_scene(size, rng)
            file_name = f'{index:06d}.jpg'
            cv2.imwrite(str(out / split / file_name), image)
            images.append(dict(id=index, file_name=file_name, height=size, width=size))
            for object_index, (category, _) in enumerate(objects):
                mask = visible_mask(objects, object_index, size)
                if mask.sum() < 16:  # hidden behind later shapes
                    continue
                annotations.append(dict(id=len(annotations) + 1, image_id=index, category_id=category + 1,
                                        iscrowd=0, **mask_annotation(mask)))
        with open(out / 'annotations' / f'instances_{split}.json', 'w') as f:
            json.dump(dict(images=images, annotations=annotations, categories=categories), f)


def write_ade(out: Path, splits: Dict[str, int], size: int, rng: np.random.Generator) -> None:
    folders = {'train': 'training', 'val': 'validation'}
    for split, count in splits.items():
        image_dir, label_dir = out / 'images' / folders[split], out / 'annotations' / folders[split]
        image_dir.mkdir(parents=True, exist_ok=True)
        label_dir.mkdir(parents=True, exist_ok=True)
        for index in range(count):
            image, objects = random_scene(size, rng)
            label = np.ones((size, size), np.uint8)
            for category, polygon in objects:
                cv2.fillPoly(label, [np.round(polygon).astype(np.int32)], category + 2)
            cv2.imwrite(str(image_dir / f'{index:06d}.jpg'), image)
            cv2.imwrite(str(label_dir / f'{index:06d}.png'), label)


def figure_joints(centre_x: float, top: float, height: float, rng: np.random.Generator) -> np.ndarray:
    """(17, 2) joint positions of a frontal stick figure ``height`` pixels tall in a random pose."""
    unit = height / 8
    neck = np.array([centre_x, top + 1.6 * unit])
    joints = np.zeros((17, 2))
    joints[0] = neck + [rng.uniform(-0.2, 0.2) * unit, -0.9 * unit]  # nose
    joints[1:3] = joints[0] + [[0.25 * unit, -0.25 * unit], [-0.25 * unit, -0.25 * unit]]  # eyes
    joints[3:5] = joints[0] + [[0.5 * unit, -0.1 * unit], [-0.5 * unit, -0.1 * unit]]  # ears
    joints[5:7] = neck + [[0.9 * unit, 0], [-0.9 * unit, 0]]  # shoulders (person's left = image right)
    pelvis = neck + [rng.uniform(-0.3, 0.3) * unit, 2.8 * unit]
    joints[11:13] = pelvis + [[0.6 * unit, 0], [-0.6 * unit, 0]]  # hips

    def limb(start: np.ndarray, length: float, low: float, high: float, side: float) -> np.ndarray:
        angle = np.deg2rad(rng.uniform(low, high))  # 0 = straight down, positive = outwards
        return start + length * np.array([side * np.sin(angle), np.cos(angle)])

    for side, (shoulder, elbow, wrist) in ((1, (5, 7, 9)), (-1, (6, 8, 10))):
        joints[elbow] = limb(joints[shoulder], 1.4 * unit, -20, 150, side)
        joints[wrist] = limb(joints[elbow], 1.3 * unit, -60, 170, side)
    for side, (hip, knee, ankle) in ((1, (11, 13, 15)), (-1, (12, 14, 16))):
        joints[knee] = limb(joints[hip], 1.7 * unit, -10, 50, side)
        joints[ankle] = limb(joints[knee], 1.6 * unit, -30, 30, side)
    return joints


def write_coco_keypoints(out: Path, splits: Dict[str, int], size: int, rng: np.random.Generator) -> None:
    (out / 'annotations').mkdir(parents=True, exist_ok=True)
    category = dict(id=1, name='person', supercategory='person', keypoints=list(KEYPOINTS), skeleton=SKELETON)
    for split, count in splits.items():
        (out / split).mkdir(exist_ok=True)
        images, annotations = [], []
        for index in range(count):
            image = background(size, rng)
            people = int(rng.integers(1, 3))
            for person in range(people):
                height = rng.uniform(0.55, 0.85) * size
                slot = size / people
                centre_x = slot * person + rng.uniform(0.35, 0.65) * slot
                joints = figure_joints(centre_x, rng.uniform(0, size - height), height, rng)
                colour = tuple(int(c) for c in rng.integers(150, 256, 3))
                thickness = max(2, int(height / 40))
                for a, b in SKELETON:
                    cv2.line(image, tuple(np.round(joints[a - 1]).astype(int)),
                             tuple(np.round(joints[b - 1]).astype(int)), colour, thickness, cv2.LINE_AA)
                for point in joints:
                    cv2.circle(image, tuple(np.round(point).astype(int)), thickness + 1, (255, 255, 255), -1)
                inside = (joints >= 0).all(1) & (joints < size).all(1)
                keypoints = np.concatenate([joints, 2 * inside[:, None]], axis=1)
                keypoints[~inside] = 0
                x0, y0 = np.clip(joints.min(0) - thickness * 2, 0, size - 1)
                x1, y1 = np.clip(joints.max(0) + thickness * 2, 0, size - 1)
                annotations.append(dict(
                    id=len(annotations) + 1, image_id=index, category_id=1, iscrowd=0,
                    keypoints=keypoints.reshape(-1).round(2).tolist(), num_keypoints=int(inside.sum()),
                    bbox=[float(x0), float(y0), float(x1 - x0), float(y1 - y0)],
                    area=float((x1 - x0) * (y1 - y0)), segmentation=[]))
            cv2.imwrite(str(out / split / f'{index:06d}.jpg'), image)
            images.append(dict(id=index, file_name=f'{index:06d}.jpg', height=size, width=size))
        with open(out / 'annotations' / f'person_keypoints_{split}.json', 'w') as f:
            json.dump(dict(images=images, annotations=annotations, categories=[category]), f)


WRITERS = {'coco': write_coco_instances, 'ade': write_ade, 'keypoints': write_coco_keypoints}


def main() -> None:
    args = parse_args()
    splits = dict(train=args.train, val=args.val)
    kinds = list(WRITERS) if args.kind == 'all' else [args.kind]
    for kind in kinds:
        out = args.out / kind if args.kind == 'all' else args.out
        WRITERS[kind](out, splits, args.size, np.random.default_rng([args.seed, list(WRITERS).index(kind)]))
        print(f'{kind}: {args.train} train / {args.val} val images in {out}')


if __name__ == '__main__':
    main()
