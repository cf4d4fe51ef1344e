"""The drawing shared by the toy-data generators of ``tools/dataset_converters/``: filled shapes on a noisy
background, whose only tell is their outline.

Not imported by ``uniformer_mm.apis`` itself (it needs OpenCV): ``from uniformer_mm.apis.toy_shapes import ...``.
"""
import cv2
import numpy as np

SHAPES = ('square', 'disc', 'triangle')


def background(size: int, rng: np.random.Generator) -> np.ndarray:
    """A smooth random colour gradient with pixel noise.

    Args:
        size: Height and width of the (size, size, 3) uint8 image.
        rng: The generator that draws the colours and the noise.
    """
    corners = rng.integers(0, 120, (2, 2, 3)).astype(np.float32)
    image = cv2.resize(corners, (size, size), interpolation=cv2.INTER_LINEAR)
    return np.clip(image + rng.normal(0, 8, image.shape), 0, 255).astype(np.uint8)


def shape_polygon(shape: str, centre: np.ndarray, radius: float, angle: float) -> np.ndarray:
    """The (N, 2) float outline of a square, disc (as a 32-gon) or triangle.

    Args:
        shape: One of :data:`SHAPES`.
        centre: The (x, y) centre.
        radius: The distance from the centre to the corners.
        angle: The rotation in radians.
    """
    corners = {'square': 4, 'disc': 32, 'triangle': 3}[shape]
    theta = angle + np.linspace(0, 2 * np.pi, corners, endpoint=False)
    return centre + radius * np.stack([np.cos(theta), np.sin(theta)], axis=1)
