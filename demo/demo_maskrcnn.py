"""Builds the Mask R-CNN of a config and runs inference on a generated image.

Prints the detections and the time taken. Without ``--checkpoint`` the detector is untrained (random
initialisation), so the detections show that the pipeline runs end to end, not what a trained model finds.

Example:
    python demo/demo_maskrcnn.py configs/uniformer_maskrcnn.py --size 800 1216
    python demo/demo_maskrcnn.py configs/uniformer_maskrcnn.py --deploy --channels-last --compile
"""
import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from uniformer_mm.apis import add_inference_speed_arguments, describe_inference_path, speed_up_from_args

# The default config is the repository's, wherever the demo is run from.
DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / 'configs' / 'uniformer_maskrcnn.py'


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', nargs='?', default=str(DEFAULT_CONFIG),
                        help='an mmdet config (default: configs/uniformer_maskrcnn.py)')
    parser.add_argument('--checkpoint', default=None, help='mmdet checkpoint to load (default: none)')
    parser.add_argument('--size', type=int, nargs=2, default=(800, 1216), metavar=('H', 'W'),
                        help='size of the generated image (default: 800 1216)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--topk', type=int, default=10, help='detections to print')
    parser.add_argument('--seed', type=int, default=0)
    add_inference_speed_arguments(parser)
    return parser.parse_args()


def generate_image(height: int, width: int, seed: int) -> np.ndarray:
    """A BGR image of a few filled rectangles and ellipses on a smooth background."""
    import cv2
    rng = np.random.default_rng(seed)
    ramp = np.linspace(40, 140, width, dtype=np.float32)
    image = np.repeat(np.tile(ramp, (height, 1))[..., None], 3, axis=2).astype(np.uint8)
    for _ in range(6):
        color = tuple(int(c) for c in rng.integers(0, 256, 3))
        x0, y0 = int(rng.integers(0, width * 3 // 4)), int(rng.integers(0, height * 3 // 4))
        w, h = int(rng.integers(width // 10, width // 4)), int(rng.integers(height // 10, height // 4))
        if rng.random() < 0.5:
            cv2.rectangle(image, (x0, y0), (x0 + w, y0 + h), color, thickness=-1)
        else:
            cv2.ellipse(image, (x0 + w // 2, y0 + h // 2), (w // 2, h // 2), 0, 0, 360, color, thickness=-1)
    return image


def main() -> None:
    args = parse_args()
    # mmengine and mmdet import pkg_resources, deprecated by the pinned setuptools: noise a user cannot act on.
    warnings.filterwarnings('ignore', message='pkg_resources is deprecated')
    from mmdet.apis import inference_detector, init_detector

    torch.manual_seed(args.seed)
    start = time.perf_counter()
    model = init_detector(args.config, args.checkpoint, device=args.device)
    build_time = time.perf_counter() - start
    backbone = model.backbone
    params = sum(p.numel() for p in model.parameters())
    print(f'model: {type(model).__name__} with {type(backbone).__name__}(arch={backbone.arch}, '
          f"attn_mode='{backbone.attn_mode}'), {params / 1e6:.2f}M parameters, built in {build_time:.1f} s")
    if args.checkpoint is None:
        print('weights: none loaded (random initialisation); pass --checkpoint for a trained detector')

    speed_up_from_args(model, args, model.cfg)
    print(describe_inference_path(args.precision, args.backend))
    image = generate_image(*args.size, seed=args.seed)
    timings = []
    for _ in range(2):  # the first call includes one-time set-up; the second is the steady-state latency
        start = time.perf_counter()
        result = inference_detector(model, image)
        timings.append(time.perf_counter() - start)

    instances = result.pred_instances
    classes = model.dataset_meta['classes']
    print(f'image: generated {args.size[0]}x{args.size[1]}; {len(instances)} detections, '
          f'top {min(args.topk, len(instances))}:')
    print(f"{'class':>14} {'score':>6}  {'box (x1, y1, x2, y2)':>26}  {'mask px':>8}")
    order = instances.scores.argsort(descending=True)[:args.topk]
    for index in order.tolist():
        x1, y1, x2, y2 = instances.bboxes[index].tolist()
        mask_area = int(instances.masks[index].sum()) if 'masks' in instances else 0
        print(f'{classes[int(instances.labels[index])]:>14} {float(instances.scores[index]):6.3f}  '
              f'({x1:6.1f}, {y1:6.1f}, {x2:6.1f}, {y2:6.1f})  {mask_area:8d}')
    print(f'inference time on {args.device}: {timings[0]:.2f} s first call, {timings[1]:.2f} s second call '
          f'({torch.get_num_threads()} threads)')


if __name__ == '__main__':
    main()
