"""Makes the installed mmpose 1.3.2 draw keypoints under numpy 2.

Its OpenCV visualizer passes a one-element array as the circle radius and calls ``int()`` on it, which numpy 2
refuses ("only 0-dimensional arrays can be converted to Python scalars"): every pose visualisation
(``MMPoseInferencer(vis_out_dir=...)``, the demos) fails. The element is taken instead. Does nothing once patched.
"""
import importlib.util
from pathlib import Path


def main() -> None:
    path = Path(importlib.util.find_spec('mmpose').origin).parent / 'visualization' / 'opencv_backend_visualizer.py'
    text = path.read_text()
    if 'int(radius)' in text:
        path.write_text(text.replace('int(radius)', 'int(np.ravel(radius)[0])'))
        print('[setup] patched mmpose: keypoint circle radius under numpy 2')


if __name__ == '__main__':
    main()
