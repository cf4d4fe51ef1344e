"""demo/onnxruntime_demo.py: an exported segmenter and video recognizer, run in ONNX Runtime with the example's
NumPy/OpenCV pre- and post-processing, predict what the codebases' inferencers predict from the same weights."""
import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from uniformer_mm.apis import build_model_from_config

from helpers import PYTHON, ROOT, randomize_, run, sharpen_attention_

pytestmark = pytest.mark.slow  # an export and an inferencer per task

SEG = 'configs/mmseg/toy/fpn_uniformer-xxs_toy-shapes-160x160.py'
VIDEO = 'configs/mmaction/toy/uniformer3d-xxs_toy-motion-rgb.py'


def export(tmp_path, config, shape):
    model = build_model_from_config(Config.fromfile(str(ROOT / config)))
    randomize_(model)  # distinct logits: an argmax over near-ties would compare rounding, not processing
    sharpen_attention_(model)  # and the light models' token scores far from ties (docs/deployment.md)
    checkpoint, onnx_file = tmp_path / 'model.pth', tmp_path / 'model.onnx'
    torch.save({'state_dict': model.state_dict()}, checkpoint)
    run([PYTHON, ROOT / 'tools/deployment/pytorch2onnx.py', config, checkpoint, '--part', 'model', '--shape',
         *map(str, shape), '--output-file', onnx_file], ROOT)
    return checkpoint, onnx_file


def test_segmentation_matches_the_inferencer(tmp_path):
    from mmseg.apis import MMSegInferencer
    checkpoint, onnx_file = export(tmp_path, SEG, (1, 3, 160, 160))
    image = cv2.GaussianBlur(np.random.default_rng(0).integers(0, 255, (150, 230, 3), np.uint8), (9, 9), 3)
    cv2.imwrite(str(tmp_path / 'photo.png'), image)
    run([PYTHON, ROOT / 'demo/onnxruntime_demo.py', 'seg', SEG, onnx_file, tmp_path / 'photo.png', '--out-file',
         tmp_path / 'classes.png'], ROOT)
    classes = cv2.imread(str(tmp_path / 'classes.png'), cv2.IMREAD_UNCHANGED)
    inferencer = MMSegInferencer(model=str(ROOT / SEG), weights=str(checkpoint), device='cpu')
    expected = inferencer(str(tmp_path / 'photo.png'), return_datasamples=True).pred_sem_seg.data[0].numpy()
    assert classes.shape == expected.shape == (150, 230)
    assert len(np.unique(expected)) > 1
    assert (classes == expected).mean() > 0.999


def test_video_matches_the_inferencer(tmp_path):
    from mmaction.apis import MMAction2Inferencer
    checkpoint, onnx_file = export(tmp_path, VIDEO, (1, 3, 16, 64, 64))
    frame = cv2.GaussianBlur(np.random.default_rng(0).integers(0, 255, (72, 96, 3), np.uint8), (9, 9), 3)
    writer = cv2.VideoWriter(str(tmp_path / 'clip.avi'), cv2.VideoWriter_fourcc(*'MJPG'), 8, (96, 72))
    for index in range(20):
        writer.write(np.roll(frame, 3 * index, axis=1))
    writer.release()
    (tmp_path / 'labels.txt').write_text('left_to_right\nright_to_left\n')
    output = run([PYTHON, ROOT / 'demo/onnxruntime_demo.py', 'video', VIDEO, onnx_file, tmp_path / 'clip.avi',
                  '--label-file', tmp_path / 'labels.txt'], ROOT)
    names = ['left_to_right', 'right_to_left']
    scores = dict(line.split(': ') for line in output.splitlines() if line.split(': ')[0] in names)
    inferencer = MMAction2Inferencer(rec=str(ROOT / VIDEO), rec_weights=str(checkpoint), device='cpu')
    expected = inferencer(str(tmp_path / 'clip.avi'))['predictions'][0]['rec_scores'][0]
    assert list(scores) == [names[i] for i in np.argsort(expected)[::-1]]
    for index, name in enumerate(names):
        assert abs(float(scores[name]) - expected[index]) < 1e-2, (scores, expected)
