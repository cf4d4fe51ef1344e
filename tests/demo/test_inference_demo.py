"""demo/inference_demo.py: each codebase's inferencer runs a shipped toy config and writes a real picture."""
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from helpers import PYTHON, ROOT, load_script, run

pytestmark = pytest.mark.slow  # one inferencer process per task


@pytest.fixture(scope='module')
def data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp('demo_data')
    converters = ROOT / 'tools/dataset_converters'
    run([PYTHON, converters / 'generate_toy_dense.py', 'all', root / 'dense', '--train', '2', '--val', '2',
         '--size', '96'], root)
    run([PYTHON, converters / 'generate_toy_classes.py', root / 'classes', '--train', '1', '--val', '1'], root)
    run([PYTHON, converters / 'generate_toy_video.py', root / 'motion', '--train', '2', '--val', '2'], root)
    return root


INPUTS = {
    'det': 'dense/coco/val',
    'seg': 'dense/ade/images/validation',
    'pose': 'dense/keypoints/val',
    'cls': 'classes/val/disc',
    'video': 'motion/rawframes/val_0000',
}


@pytest.mark.parametrize('task', sorted(INPUTS))
def test_demo_writes_a_picture(tmp_path, data, task):
    source = data / INPUTS[task]
    if task != 'video':
        source = sorted(source.glob('*.jpg'))[0]
    output = run([PYTHON, ROOT / 'demo/inference_demo.py', task, '--checkpoint', 'none', '--input', source,
                  '--out-dir', tmp_path], ROOT)
    pictures = [Path(line.split('wrote ', 1)[1]) for line in output.splitlines() if line.startswith('wrote ')]
    images = [cv2.imread(str(p)) for p in pictures if p.suffix in ('.jpg', '.png')]
    assert images, output
    for image in images:
        assert image is not None and min(image.shape[:2]) >= 64 and image.std() > 1
    if task == 'video':
        (video, ) = [p for p in pictures if p.suffix == '.mp4']
        ok, frame = cv2.VideoCapture(str(video)).read()
        assert ok and frame.shape[0] == 256, 'the 64 px clip enlarged so that the label can be read'
        assert any(line.startswith('predicted left_to_right (') or line.startswith('predicted right_to_left (')
                   for line in output.splitlines())


def load_demo():
    return load_script(ROOT / 'demo/inference_demo.py')


def test_video_frames_show_the_predicted_class():
    """mmaction2 1.2.0's visualizer draws no prediction from its inferencer's samples; the demo's copy draws one."""
    from mmaction.structures import ActionDataSample
    from mmaction.visualization import ActionVisualizer
    demo = load_demo()
    visualizer = ActionVisualizer.get_instance('test_video_frames_show_the_predicted_class')
    visualizer.dataset_meta = dict(classes=list(demo.VIDEO_CLASSES))
    sample = ActionDataSample().set_pred_label(1).set_pred_score(torch.tensor([0.3, 0.7]))
    frames = [np.full((256, 256, 3), 90, np.uint8)] * 2

    def drawn(data_sample):
        return visualizer.add_datasample('clip', frames, data_sample, draw_gt=False, out_type='img')

    as_inferred, labelled = drawn(sample), drawn(demo.with_visualizer_labels(sample))
    changed_rows = np.nonzero(np.any(labelled != as_inferred, axis=(0, 2, 3)))[0]
    assert changed_rows.size and changed_rows.max() < 64, 'a caption line added at the top, nothing else'
    assert 'pred_labels' not in sample, "the inferencer's sample is left as it was"


@pytest.mark.parametrize('task, options', [
    ('cls', ['--precision', 'bf16']),
    ('video', ['--precision', 'bf16', '--backend', 'openvino']),
])
def test_demo_runs_the_backbone_in_lower_precision(tmp_path, data, task, options):
    source = data / INPUTS[task]
    if task != 'video':
        source = sorted(source.glob('*.jpg'))[0]
    output = run([PYTHON, ROOT / 'demo/inference_demo.py', task, '--checkpoint', 'none', '--input', source,
                  '--out-dir', tmp_path, '--allow-emulated', *options], ROOT)
    backend = options[options.index('--backend') + 1] if '--backend' in options else 'pytorch'
    assert f'backbone in bf16 through {backend}; CPU ' in output
    assert any(line.startswith('wrote ') for line in output.splitlines())


def test_maskrcnn_demo_runs_the_backbone_in_bf16():
    output = run([PYTHON, 'demo/demo_maskrcnn.py', '--size', '256', '320', '--topk', '3', '--precision', 'bf16',
                  '--allow-emulated'], timeout=600)
    assert 'backbone in bf16 through pytorch; CPU ' in output
