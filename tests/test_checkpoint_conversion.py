"""Official Kinetics checkpoints convert into mmaction2 Recognizer3D checkpoints that mim test can load."""
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import fabricate_official_state_dict, randomize_
from mmengine.config import Config
from mmengine.registry import DefaultScope

from uniformer_mm import CheckpointMismatchError
from uniformer_mm.checkpoint_conversion import openmmlab1_to_openmmlab2, slowfast_video_to_mmaction
from uniformer_mm.models import build_model_from_config

ROOT = Path(__file__).resolve().parents[1]
K400_CONFIG = ROOT / 'configs/mmaction/uniformer3d-s_in1k-pre_8xb8-16x4x1-200e_kinetics400-rgb.py'


def test_converted_kinetics_checkpoint_is_the_official_classifier(tmp_path):
    official = fabricate_official_state_dict('video_small_k400')
    torch.save(dict(model_state=official, epoch=200, cfg='UNIFORMER:\n  DEPTH: [3, 4, 8, 3]\n'),
               tmp_path / 'k400.pth')
    result = subprocess.run([sys.executable, 'tools/convert_checkpoint.py', 'slowfast-video',
                             str(tmp_path / 'k400.pth'), str(tmp_path / 'mmaction.pth')],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert 'arch small, 400 classes' in result.stdout

    cfg = Config.fromfile(str(K400_CONFIG))
    cfg.model.backbone.init_cfg = None
    from mmaction.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmaction'):
        recognizer = MODELS.build(cfg.model).eval()
    recognizer.load_state_dict(torch.load(tmp_path / 'mmaction.pth')['state_dict'], strict=True)

    clip = torch.randn(1, 3, 8, 64, 64)
    with torch.no_grad():
        features = recognizer.backbone(clip)
        logits = recognizer.cls_head(features)
        expected = features.flatten(2).mean(-1) @ official['head.weight'].T + official['head.bias']
    torch.testing.assert_close(logits, expected, rtol=1e-5, atol=1e-5)


def test_backbone_only_checkpoint_is_refused():
    backbone = fabricate_official_state_dict('detseg_backbone_small')
    with pytest.raises(ValueError, match='no head.weight'):
        slowfast_video_to_mmaction(dict(model_state=backbone))


def test_image_checkpoint_is_refused():
    with pytest.raises(CheckpointMismatchError, match='shape mismatch'):
        slowfast_video_to_mmaction(dict(model=fabricate_official_state_dict('image_small_in1k')))


# mmpose 0.x TopdownHeatmapSimpleHead: three (ConvTranspose2d, BN, ReLU) triples and a 1x1 final conv.
def _old_pose_head(seed: int = 0) -> dict:
    generator = torch.Generator().manual_seed(seed)
    head = {}
    in_channels = 512
    for index in (0, 3, 6):
        head[f'keypoint_head.deconv_layers.{index}.weight'] = torch.randn(in_channels, 256, 4, 4, generator=generator)
        bn = f'keypoint_head.deconv_layers.{index + 1}'
        head.update({f'{bn}.weight': torch.rand(256, generator=generator), f'{bn}.bias': torch.randn(256),
                     f'{bn}.running_mean': torch.randn(256), f'{bn}.running_var': torch.rand(256) + 0.5,
                     f'{bn}.num_batches_tracked': torch.tensor(1000)})
        in_channels = 256
    head['keypoint_head.final_layer.weight'] = torch.randn(17, 256, 1, 1, generator=generator)
    head['keypoint_head.final_layer.bias'] = torch.randn(17, generator=generator)
    return head


def _old_checkpoint(backbone: dict, rest: dict, classes=None) -> dict:
    """An OpenMMLab 1.x checkpoint as mmcv 1.x saved it."""
    meta = dict(mmcv_version='1.3.9', time='Mon Jan 10 12:00:00 2022', epoch=12, iter=87960,
                config='model = dict(...)', hook_msgs=dict(last_ckpt='/path/epoch_12.pth'))
    if classes is not None:
        meta['CLASSES'] = classes
    return dict(meta=meta, state_dict={**{f'backbone.{k}': v for k, v in backbone.items()}, **rest})


def _convert(tmp_path, checkpoint: dict, config: str) -> subprocess.CompletedProcess:
    torch.save(checkpoint, tmp_path / 'old.pth')
    return subprocess.run([sys.executable, 'tools/convert_checkpoint.py', 'openmmlab1', str(tmp_path / 'old.pth'),
                           str(tmp_path / 'new.pth'), '--config', config],
                          cwd=ROOT, capture_output=True, text=True)


def test_mmpose0_topdown_checkpoint_converts_and_predicts_the_same_heatmaps(tmp_path):
    config = 'configs/mmpose/td-hm_uniformer-s_8xb128-210e_coco-256x192.py'
    backbone = fabricate_official_state_dict('detseg_backbone_small')
    head = _old_pose_head()
    result = _convert(tmp_path, _old_checkpoint(backbone, head), config)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f'fits {config}' in result.stdout
    assert 'backbone.norm1.weight' in result.stdout + result.stderr  # left out, and said so
    assert 'output norm of a stage not in out_indices' in result.stdout + result.stderr

    model = build_model_from_config(config).eval()
    converted = torch.load(tmp_path / 'new.pth')['state_dict']
    model.load_state_dict(converted, strict=True)
    assert torch.equal(converted['head.deconv_layers.0.weight'], head['keypoint_head.deconv_layers.0.weight'])
    assert torch.equal(converted['head.final_layer.weight'], head['keypoint_head.final_layer.weight'])

    # The heatmaps are the old model's: backbone -> deconvolutions -> 1x1 conv, restated by hand.
    image = torch.randn(1, 3, 256, 192)
    with torch.no_grad():
        heatmaps = model.head.forward(model.backbone(image))
        features = model.backbone(image)[-1]
        for index in (0, 3, 6):
            features = torch.nn.functional.conv_transpose2d(
                features, head[f'keypoint_head.deconv_layers.{index}.weight'], stride=2, padding=1)
            bn = f'keypoint_head.deconv_layers.{index + 1}'
            features = torch.nn.functional.batch_norm(features, head[f'{bn}.running_mean'],
                                                      head[f'{bn}.running_var'], head[f'{bn}.weight'],
                                                      head[f'{bn}.bias']).relu()
        expected = torch.nn.functional.conv2d(features, head['keypoint_head.final_layer.weight'],
                                              head['keypoint_head.final_layer.bias'])
    assert heatmaps.shape == (1, 17, 64, 48)
    torch.testing.assert_close(heatmaps, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize('config, backbone_keys', [
    ('configs/mmdet/mask-rcnn_uniformer-s-h14_fpn_1x_coco.py', 'detseg_backbone_small'),
    ('configs/mmseg/upernet_uniformer-b-h14_8xb2-160k_ade20k-512x512.py', 'detseg_backbone_base'),
])
def test_mmdet2_and_mmseg0_checkpoints_convert(tmp_path, config, backbone_keys):
    # The backbone part is the official layout; necks and heads of these models kept their key names in
    # OpenMMLab 2.0, so they are taken from the new model.
    model = build_model_from_config(config)
    randomize_(model)
    rest = {k: v for k, v in model.state_dict().items() if not k.startswith('backbone.')}
    backbone = fabricate_official_state_dict(backbone_keys)
    result = _convert(tmp_path, _old_checkpoint(backbone, rest, classes=('person', 'bicycle')), config)
    assert result.returncode == 0, result.stderr[-3000:]
    converted = torch.load(tmp_path / 'new.pth')
    assert converted['meta']['dataset_meta'] == dict(classes=('person', 'bicycle'))
    for key, value in backbone.items():
        assert torch.equal(converted['state_dict'][f'backbone.{key}'], value), key
    build_model_from_config(config).load_state_dict(converted['state_dict'], strict=True)


def test_old_checkpoint_of_another_model_is_refused_with_the_keys(tmp_path):
    # A base backbone in a small config: shapes match key by key where both exist, the extra blocks do not fit.
    config = 'configs/mmpose/td-hm_uniformer-s_8xb128-210e_coco-256x192.py'
    result = _convert(tmp_path, _old_checkpoint(fabricate_official_state_dict('detseg_backbone_base'),
                                                _old_pose_head()), config)
    assert result.returncode != 0
    assert 'CheckpointMismatchError' in result.stderr and 'not in the model: backbone.blocks1.3.' in result.stderr
    assert not (tmp_path / 'new.pth').exists()

    model = build_model_from_config(config)
    with pytest.raises(CheckpointMismatchError, match="keeps its tensors under 'state_dict'"):
        openmmlab1_to_openmmlab2(dict(model=fabricate_official_state_dict('detseg_backbone_small')), model)
    head = _old_pose_head()
    head['keypoint_head.final_layer.weight'] = torch.randn(16, 256, 1, 1)
    with pytest.raises(CheckpointMismatchError, match=r'size mismatch for head.final_layer.weight'):
        openmmlab1_to_openmmlab2(_old_checkpoint(fabricate_official_state_dict('detseg_backbone_small'), head),
                                 model)
