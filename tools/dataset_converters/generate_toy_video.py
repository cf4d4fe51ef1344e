"""Writes a small video-recognition dataset whose classes only temporal order can tell apart.

Each clip shows a textured disc crossing a noisy background with static distractor shapes; the class is the
direction of motion (0: left to right, 1: right to left). Start position, height, speed, colours and
distractors are random and identical in distribution for both classes, so a single frame, or the frames of a
clip in shuffled order, carry no information about the label.

Layout (mmaction2's rawframe format, for ``RawframeDataset``)::

    OUT/rawframes/{split}_{index:04d}/img_00001.jpg ...
    OUT/train.txt, OUT/val.txt            "{folder} {num_frames} {label}" per line
    OUT/val_shuffled.txt                  the val clips with their frames in a random order

Example:
    python tools/dataset_converters/generate_toy_video.py data/toy_motion --train 160 --val 64
"""
import argparse
from pathlib import Path

import cv2
import numpy as np

CLASSES = ('left_to_right', 'right_to_left')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('out', type=Path)
    parser.add_argument('--train', type=int, default=160, help='training clips')
    parser.add_argument('--val', type=int, default=64, help='validation clips')
    parser.add_argument('--frames', type=int, default=16)
    parser.add_argument('--size', type=int, default=64, help='frame height and width')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args()


def render_clip(label: int, frames: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """A (frames, size, size, 3) uint8 clip of a disc moving left to right (label 0) or back (label 1)."""
    background = rng.integers(0, 90, (size, size, 3)).astype(np.uint8)
    for _ in range(2):  # static distractors
        colour = tuple(int(c) for c in rng.integers(60, 200, 3))
        top_left = tuple(int(v) for v in rng.integers(0, size - 12, 2))
        cv2.rectangle(background, top_left, (top_left[0] + 10, top_left[1] + 10), colour, -1)
    radius = int(rng.integers(5, 9))
    colour = tuple(int(c) for c in rng.integers(150, 256, 3))
    y = int(rng.integers(radius, size - radius))
    travel = rng.uniform(0.5, 0.9) * (size - 2 * radius)
    start = rng.uniform(radius, size - radius - travel)
    xs = start + travel * np.linspace(0, 1, frames)
    if label == 1:
        xs = xs[::-1]
    clip = np.empty((frames, size, size, 3), np.uint8)
    for t, x in enumerate(xs):
        frame = background.copy()
        cv2.circle(frame, (int(round(x)), y), radius, colour, -1)
        cv2.circle(frame, (int(round(x)), y), radius // 2, (40, 40, 40), -1)
        noise = rng.integers(-12, 13, frame.shape)
        clip[t] = np.clip(frame.astype(np.int16) + noise, 0, 255).astype(np.uint8)
    return clip


def write_clip(folder: Path, clip: np.ndarray) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for t, frame in enumerate(clip):
        cv2.imwrite(str(folder / f'img_{t + 1:05d}.jpg'), frame, [cv2.IMWRITE_JPEG_QUALITY, 95])


def main() -> None:
    args = parse_args()
    rng = np.random.default_rng(args.seed)
    frames_dir = args.out / 'rawframes'
    for split, count in (('train', args.train), ('val', args.val)):
        lines, shuffled_lines = [], []
        for index in range(count):
            label = index % len(CLASSES)
            clip = render_clip(label, args.frames, args.size, rng)
            name = f'{split}_{index:04d}'
            write_clip(frames_dir / name, clip)
            lines.append(f'{name} {args.frames} {label}')
            if split == 'val':
                write_clip(frames_dir / f'{name}_shuffled', clip[rng.permutation(args.frames)])
                shuffled_lines.append(f'{name}_shuffled {args.frames} {label}')
        (args.out / f'{split}.txt').write_text('\n'.join(lines) + '\n')
        if shuffled_lines:
            (args.out / 'val_shuffled.txt').write_text('\n'.join(shuffled_lines) + '\n')
    print(f'wrote {args.train} training and {args.val} validation clips ({args.frames} frames, '
          f'{args.size}x{args.size}, classes {CLASSES}) and a frame-shuffled copy of the validation set '
          f'to {args.out}')


if __name__ == '__main__':
    main()
