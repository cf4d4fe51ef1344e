"""The upstream breaks that set-up fixes stay fixed (see docs/setup.md, "How set-up deals with upstream breaks")."""
import importlib
import importlib.metadata
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

REQUIREMENTS = Path(__file__).resolve().parents[1] / 'requirements'


def pins():
    """``(file, package, version)`` for every ``name==version`` line of requirements/, the one pin list."""
    for path in sorted(REQUIREMENTS.glob('*.txt')):
        for line in path.read_text().splitlines():
            match = re.match(r'([A-Za-z0-9_.-]+)==([^\s#]+)', line)
            if match:
                yield path.name, *match.groups()


@pytest.mark.parametrize('requirements, package, version', list(pins()))
def test_the_environment_has_the_pinned_version(requirements, package, version):
    assert importlib.metadata.version(package) == version, f'requirements/{requirements} pins {package}=={version}'


def test_mmaction_models_import_and_build(tmp_path):
    importlib.import_module('mmaction.models')  # failed on the missing DRN localizer before set-up's fix
    from mmaction.registry import MODELS
    config = tmp_path / 'tsn.py'
    config.write_text("_base_ = 'mmaction::recognition/tsn/"
                      "tsn_imagenet-pretrained-r50_8xb32-1x1x3-100e_kinetics400-rgb.py'\n"
                      "model = dict(backbone=dict(pretrained=None))\n")
    with DefaultScope.overwrite_default_scope('mmaction'):
        model = MODELS.build(Config.fromfile(str(config)).model)
    assert type(model).__name__ == 'Recognizer2D'


def test_xtcocotools_mask_api_works_under_numpy2():
    from xtcocotools import mask
    assert int(np.__version__.split('.')[0]) >= 2
    square = mask.frPyObjects([[0, 0, 3, 0, 3, 3, 0, 3]], 4, 4)
    assert mask.area(square).tolist() == [9]
    assert mask.decode(square).sum() == 9
    assert mask.decode(mask.encode(np.asfortranarray(np.ones((4, 4, 1), dtype=np.uint8)))).sum() == 16
    np.testing.assert_allclose(mask.iou([[0, 0, 2, 2]], [[1, 1, 2, 2]], [0]), [[1 / 7]])


@pytest.mark.parametrize('module', ['mmseg.models', 'mmpose.models', 'mmdet.models'])
def test_codebases_import(module):
    importlib.import_module(module)


def test_mmcv_ops_run_on_cpu():
    from mmcv.ops import RoIAlign, nms
    boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.], [20., 20., 30., 30.]])
    _, keep = nms(boxes, torch.tensor([0.9, 0.8, 0.7]), iou_threshold=0.5)
    assert keep.tolist() == [0, 2]
    rois = torch.tensor([[0., 0., 0., 8., 8.]])
    assert RoIAlign((2, 2), 1.0, 0)(torch.ones(1, 1, 16, 16), rois).shape == (1, 1, 2, 2)
