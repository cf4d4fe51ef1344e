"""Official Kinetics checkpoints convert into mmaction2 Recognizer3D checkpoints that mim test can load."""
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import fabricate_official_state_dict
from mmengine.config import Config
from mmengine.registry import DefaultScope

from uniformer_mm import CheckpointMismatchError
from uniformer_mm.checkpoint_conversion import slowfast_video_to_mmaction

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
