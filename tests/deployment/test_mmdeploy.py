"""mmdeploy 1.3.1 converts the Mask R-CNN S-h14, UperNet S-h14, top-down pose S and UniFormer3D S configs with the
onnxruntime deploy configs (configs/mmdeploy/, mmdeploy's own values), through the steps of mmdeploy's
tools/deploy.py: ``torch2onnx``, then the onnxruntime backend. The file's raw outputs equal PyTorch's, for the
dynamic configs at sizes other than the export size too. Test pipelines are shrunk to fit 2 CPU cores.

The references are the plain models (no mmdeploy rewriting) wherever mmdeploy's raw output is a computation of the
model itself: segmentation logits, pose heatmaps, clip-averaged class scores. The detector's raw outputs come after
mmdeploy's own NMS, so its reference is the model under mmdeploy's rewriters, run in PyTorch, and its detections
are compared as sets (``_matching_detections``).
"""
import copy
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

mmdeploy_apis = pytest.importorskip('mmdeploy.apis')  # noqa: E402  (mmdeploy before the model configs, as its tools)
from mmdeploy.backend.onnxruntime.wrapper import ORTWrapper  # noqa: E402
from mmdeploy.core import RewriterContext, patch_model  # noqa: E402
from mmdeploy.utils import IR, load_config  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.registry import MODELS, DefaultScope  # noqa: E402

# Explicitly: pytest imported uniformer_mm before mmdeploy, so its import-time registration did not run here.
import uniformer_mm.deployment.mmdeploy_compat  # noqa: E402,F401

from helpers import ROOT, randomize_  # noqa: E402

DEPLOY_CONFIGS = ROOT / 'configs' / 'mmdeploy'
pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _own_default_scope():
    """mmdeploy's task processors set mmengine's default scope for the whole process (a video conversion leaves
    'mmaction', where mmpretrain's inferencer in a later test then looked its transforms up and failed); each test
    here gives back the scopes it started with, as ``DefaultScope.overwrite_default_scope`` does."""
    scopes = copy.deepcopy(DefaultScope._instance_dict)
    yield
    DefaultScope._instance_dict = scopes


def _set_in_pipelines(cfg: Config, step_type: str, **fields) -> None:
    """Sets ``fields`` on every ``step_type`` step of the config's test pipelines."""
    pipelines = [cfg.test_dataloader.dataset.pipeline]
    if 'test_pipeline' in cfg:
        pipelines.append(cfg.test_pipeline)
    for pipeline in pipelines:
        for step in pipeline:
            if step['type'] == step_type:
                step.update(fields)


def _image(path: Path, height: int, width: int, seed: int) -> str:
    rng = np.random.default_rng(seed)
    cv2.imwrite(str(path), (rng.random((height, width, 3)) * 255).astype(np.uint8))
    return str(path)


def _video(path: Path, frames: int = 40, height: int = 96, width: int = 128) -> str:
    rng = np.random.default_rng(0)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), 25, (width, height))
    for _ in range(frames):
        writer.write((rng.random((height, width, 3)) * 255).astype(np.uint8))
    writer.release()
    return str(path)


def _convert(tmp_path, deploy_cfg, model_cfg, prepare_weights, export_input):
    """Saves a checkpoint of the model with weights set by ``prepare_weights`` and converts it as tools/deploy.py does.
    Returns the task processor, the PyTorch model loaded from that checkpoint, and the onnxruntime wrapper."""
    task_processor = mmdeploy_apis.build_task_processor(model_cfg, deploy_cfg, 'cpu')
    with DefaultScope.overwrite_default_scope(model_cfg.default_scope):
        model = MODELS.build(model_cfg.model)  # not build_pytorch_model: that one folds the backbone
    prepare_weights(model)
    checkpoint = tmp_path / 'model.pth'
    torch.save({'state_dict': model.state_dict()}, checkpoint)
    mmdeploy_apis.torch2onnx(export_input, str(tmp_path), 'end2end.onnx', deploy_cfg, model_cfg, str(checkpoint),
                             device='cpu')
    model = task_processor.build_pytorch_model(str(checkpoint))
    wrapper = ORTWrapper(str(tmp_path / 'end2end.onnx'), 'cpu', deploy_cfg.onnx_config.output_names)
    return task_processor, model, wrapper


def _inputs(task_processor, model, data):
    prepared, inputs = task_processor.create_input(data, None, data_preprocessor=model.data_preprocessor)
    inputs = inputs[0] if isinstance(inputs, list) and len(inputs) == 1 else inputs
    return prepared['data_samples'], inputs


def _export_module(module, args, path: Path, opset: int, input_names, dynamic_axes) -> ORTWrapper:
    """Exports a module through mmdeploy's ``export`` for onnxruntime (with the rewriters active), one output."""
    from mmdeploy.apis.onnx import export

    deploy_cfg = Config(dict(onnx_config=dict(type='onnx', opset_version=opset),
                             backend_config=dict(type='onnxruntime')))
    export(module, args, str(path), backend='onnxruntime', context_info=dict(deploy_cfg=deploy_cfg),
           input_names=input_names, output_names=['output'], opset_version=opset, dynamic_axes=dynamic_axes)
    return ORTWrapper(f'{path}.onnx', 'cpu', ['output'])


def _assert_close(actual: torch.Tensor, expected: torch.Tensor, rtol: float = 1e-5) -> None:
    assert actual.shape == expected.shape
    scale = float(expected.abs().max())
    torch.testing.assert_close(actual.float(), expected.float(), rtol=rtol, atol=rtol * scale)


def test_upernet_s_h14_segmentation_logits_at_three_sizes(tmp_path):
    deploy_cfg, model_cfg = load_config(str(DEPLOY_CONFIGS / 'segmentation_onnxruntime_dynamic.py'),
                                        str(ROOT / 'configs/mmseg/upernet_uniformer-s-h14_8xb2-160k_ade20k-512x512.py'))
    deploy_cfg.codebase_config.with_argmax = False  # logits: random weights make the argmax a matter of ties
    _set_in_pipelines(model_cfg, 'Resize', scale=(320, 256))
    shapes = [(256, 320), (200, 360), (288, 288)]
    images = [_image(tmp_path / f'{h}x{w}.png', h, w, seed) for seed, (h, w) in enumerate(shapes)]
    task_processor, model, wrapper = _convert(tmp_path, deploy_cfg, model_cfg, randomize_, images[0])
    sizes = set()
    for image in images:
        data_samples, inputs = _inputs(task_processor, model, image)
        sizes.add(tuple(inputs.shape[2:]))
        for sample in data_samples:
            sample.set_metainfo(dict(img_shape=tuple(inputs.shape[2:])))
        with torch.no_grad():
            expected = model.encode_decode(inputs, [sample.metainfo for sample in data_samples])
        _assert_close(wrapper({'input': inputs})['output'], expected)
    assert sizes == {(256, 320), (178, 320), (256, 256)}


def test_mask_rcnn_s_h14_detections_and_masks_at_two_sizes(tmp_path):
    deploy_cfg, model_cfg = load_config(str(DEPLOY_CONFIGS / 'instance-seg_onnxruntime_dynamic.py'),
                                        str(ROOT / 'configs/mmdet/mask-rcnn_uniformer-s-h14_fpn_1x_coco.py'))
    _set_in_pipelines(model_cfg, 'Resize', scale=(416, 256))

    def confident_heads(model):
        # mmdet's initialisation for the heads (random regressions would throw the boxes to the image borders),
        # with wide classification logits so that detections pass the 0.05 score threshold and rank without ties.
        randomize_(model.backbone)
        with torch.no_grad():
            model.roi_head.bbox_head.fc_cls.weight.mul_(20)

    images = [_image(tmp_path / f'{h}x{w}.png', h, w, seed) for seed, (h, w) in enumerate([(256, 320), (240, 400)])]
    task_processor, model, wrapper = _convert(tmp_path, deploy_cfg, model_cfg, confident_heads, images[0])
    sizes = set()
    for image in images:
        data_samples, inputs = _inputs(task_processor, model, image)
        sizes.add(tuple(inputs.shape[2:]))
        patched = patch_model(model, cfg=deploy_cfg, backend='onnxruntime', ir=IR.ONNX)
        with RewriterContext(cfg=deploy_cfg, backend='onnxruntime', ir=IR.ONNX, opset=11), torch.no_grad():
            expected = patched(inputs, data_samples, mode='predict')
        outputs = wrapper({'input': inputs})
        dets, labels, masks = (tensor[0] for tensor in expected)
        assert len(dets) > 10, 'too few detections for a meaningful comparison'
        pairs = _matching_detections(outputs['dets'][0], outputs['labels'][0], dets, labels)
        # All but a few: the rest are the NMS decisions that last-bit differences flip (see the helper).
        assert len(pairs) >= 0.9 * len(dets), f'{len(pairs)} of {len(dets)} detections match'
        for found, wanted in pairs:
            _assert_close(outputs['masks'][0, found], masks[wanted], rtol=1e-4)
    assert sizes == {(256, 320), (256, 416)}


def _matching_detections(found_dets, found_labels, dets, labels, rtol: float = 1e-5):
    """Pairs (i, j) of found and expected detections with the same label, box and score (to ``rtol`` of the
    largest value), each used once.

    Matched as sets rather than row by row because a detector's raw outputs come after NMS, which random weights
    make ill-conditioned: on a Zen 4 EPYC (one thread) ONNX Runtime and PyTorch differ in the last bits, and 3 of
    100 detections of this test flipped at an overlap or score threshold, shifting every row after the first."""
    atol = rtol * float(dets.abs().max())
    pairs, used = [], set()
    for wanted, (det, label) in enumerate(zip(dets, labels)):
        close = ((found_dets - det).abs().amax(dim=1) <= atol) & (found_labels == label)
        for found in close.nonzero().flatten().tolist():
            if found not in used:
                used.add(found)
                pairs.append((found, wanted))
                break
    return pairs


def test_top_down_pose_s_heatmaps(tmp_path):
    deploy_cfg, model_cfg = load_config(str(DEPLOY_CONFIGS / 'pose-detection_onnxruntime_static.py'),
                                        str(ROOT / 'configs/mmpose/td-hm_uniformer-s_8xb128-210e_coco-256x192.py'))
    image = _image(tmp_path / 'person.png', 240, 180, 0)
    task_processor, model, wrapper = _convert(tmp_path, deploy_cfg, model_cfg, randomize_, image)
    _, inputs = _inputs(task_processor, model, image)
    assert tuple(inputs.shape) == (1, 3, 256, 192)
    with torch.no_grad():
        expected = model(inputs, None, mode='tensor')
    _assert_close(wrapper({'input': inputs})['output'], expected)


def test_uniformer3d_s_recognizer_clip_averaged_scores(tmp_path):
    deploy_cfg, model_cfg = load_config(
        str(DEPLOY_CONFIGS / 'video-recognition_onnxruntime_static.py'),
        str(ROOT / 'configs/mmaction/uniformer3d-s_in1k-pre_8xb8-16x4x1-200e_kinetics400-rgb.py'))
    _set_in_pipelines(model_cfg, 'SampleFrames', clip_len=8, frame_interval=2, num_clips=2)
    _set_in_pipelines(model_cfg, 'Resize', scale=(-1, 64))
    _set_in_pipelines(model_cfg, 'CenterCrop', crop_size=64)
    video = _video(tmp_path / 'clip.mp4')
    task_processor, model, wrapper = _convert(tmp_path, deploy_cfg, model_cfg, randomize_, video)
    data_samples, inputs = _inputs(task_processor, model, video)
    assert tuple(inputs.shape) == (1, 2, 3, 8, 64, 64)
    with torch.no_grad():
        expected = torch.stack([sample.pred_score for sample in model(inputs, data_samples, mode='predict')])
    _assert_close(wrapper({'input': inputs})['output'], expected)


@pytest.mark.parametrize('opset', [11, 16])
def test_roi_align_symbolic_matches_mmcv(tmp_path, opset):
    """mmdeploy's own onnxruntime RoIAlign symbolic imports a helper torch removed; ours must equal mmcv's aligned
    RoIAlign: exactly from opset 16 (RoiAlign's half_pixel mode), and at opset 11 for boxes of at least one
    feature pixel (smaller ones are stretched to one pixel by the opset-10 operator)."""
    from mmcv.ops import RoIAlign

    roi_align = RoIAlign(output_size=(7, 7), spatial_scale=0.25, sampling_ratio=0, aligned=True)
    features = torch.randn(2, 8, 32, 40)
    large = torch.tensor([[0, 10., 12., 90., 70.], [1, 0., 0., 159., 127.], [1, 33.3, 5.5, 60.2, 101.7]])
    tiny = torch.tensor([[0, 40., 40., 41.5, 42.], [1, 100., 20., 102., 21.]])  # under 4 px: < 1 feature pixel
    rois = torch.cat([large, tiny])
    wrapper = _export_module(roi_align, (features, rois), tmp_path / 'roi_align', opset, ['features', 'rois'],
                             {'rois': {0: 'rois'}, 'output': {0: 'rois'}})
    actual = wrapper({'features': features, 'rois': rois})['output']
    with torch.no_grad():
        expected = roi_align(features, rois)
    compared = len(rois) if opset >= 16 else len(large)
    _assert_close(actual[:compared], expected[:compared])


@pytest.mark.parametrize('example, others', [
    ((2, 8, 16, 20), [(1, 8, 25, 42), (2, 8, 7, 9), (1, 8, 4, 2)]),
    ((8, 16, 20), [(8, 13, 17)]),
], ids=['4d', '3d'])
def test_adaptive_avg_pool2d_is_exact_at_every_size(tmp_path, example, others):
    """mmdeploy's own rewriter turns adaptive pooling into a fixed-kernel average pool; ours exports the operator
    itself, with bins that follow the input (including bins that overlap, on maps smaller than the bins)."""
    pool = torch.nn.AdaptiveAvgPool2d((6, 3))
    spatial = {len(example) - 2: 'height', len(example) - 1: 'width'}
    wrapper = _export_module(pool, torch.randn(example), tmp_path / 'pool', 11, ['input'],
                             {'input': {0: 'batch', **spatial}})
    for shape in [example, *others]:
        inputs = torch.randn(shape)
        _assert_close(wrapper({'input': inputs})['output'], pool(inputs))


def test_rewriters_are_registered_by_the_deploy_config_and_only_by_it():
    """mmdeploy's tools read the deploy config with mmengine, whose custom_imports register our rewriters; the model
    config's import of uniformer_mm leaves mmdeploy alone, whatever was imported first."""
    script = ('import sys\n'
              'import mmdeploy.apis\n'
              'from mmdeploy.core import FUNCTION_REWRITER\n'
              'from mmdeploy.utils import load_config\n'
              'records = FUNCTION_REWRITER._registry._rewrite_records\n'
              "load_config('configs/mmseg/upernet_uniformer-s-h14_8xb2-160k_ade20k-512x512.py')\n"
              "print('uniformer_mm' in sys.modules, 'torch.onnx.export' in records)\n"
              "load_config('configs/mmdeploy/segmentation_onnxruntime_dynamic.py')\n"
              "print('torch.onnx.export' in records)\n")
    result = subprocess.run([sys.executable, '-c', script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.split()[-3:] == ['True', 'False', 'True']
