"""mmengine's FLOP counter (and so the codebases' get_flops tools) counts scaled_dot_product_attention once
uniformer_mm is imported, and reaches the published figures."""
import functools
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from mmengine.analysis import get_model_complexity_info

from uniformer_mm import UniFormer3D

from harness import build_model_from_config

ROOT = Path(__file__).resolve().parents[1]
MIM = str(Path(sys.executable).parent / 'mim')


class Attention(torch.nn.Module):

    def forward(self, query, key, value):
        return F.scaled_dot_product_attention(query, key, value)


def gflops(model, shape):
    return get_model_complexity_info(model.eval(), input_shape=shape, show_table=False, show_arch=False)['flops'] / 1e9


def test_attention_counts_scores_and_weighted_values():
    inputs = (torch.randn(2, 3, 5, 8), torch.randn(2, 3, 7, 8), torch.randn(2, 3, 7, 4))
    flops = get_model_complexity_info(Attention(), inputs=inputs, show_table=False, show_arch=False)['flops']
    assert flops == 2 * 3 * 5 * 7 * (8 + 4)


def test_video_s_16x224_reaches_the_published_41_8g():
    assert round(gflops(UniFormer3D(arch='small'), (3, 16, 224, 224)), 1) == 41.8


def test_pose_s_256x192_reaches_the_published_4_7g():
    model = build_model_from_config(str(ROOT / 'configs/mmpose/td-hm_uniformer-s_8xb128-210e_coco-256x192.py'))
    model.forward = model._forward  # what mmpose's get_flops measures
    assert round(gflops(model, (3, 256, 192)), 1) == 4.7


@pytest.mark.slow
@pytest.mark.parametrize('codebase, config, args, expected', [
    ('mmpose', 'configs/mmpose/td-hm_uniformer-s_8xb128-210e_coco-256x192.py', [], 'Flops: 4.687G'),
    ('mmaction', 'configs/mmaction/uniformer3d-s_in1k-pre_8xb8-16x4x1-200e_kinetics400-rgb.py',
     ['--shape', '1', '3', '16', '224', '224'], 'Flops: 41.757G'),
])
def test_mim_run_get_flops(codebase, config, args, expected):
    result = subprocess.run([MIM, 'run', codebase, 'get_flops', config, *args], cwd=ROOT, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert expected in result.stdout


@pytest.mark.slow
def test_mask_rcnn_s_h14_800x1280_reaches_the_published_269g():
    """What mmdet's get_flops counts (the tensor-mode forward, with the picture's data sample), on a synthetic
    800x1280 picture instead of a COCO one: the published 41M parameters and 269G."""
    from mmdet.structures import DetDataSample

    model = build_model_from_config(str(ROOT / 'configs/mmdet/mask-rcnn_uniformer-s-h14_fpn_1x_coco.py')).eval()
    shape = (800, 1280)
    sample = DetDataSample(metainfo=dict(img_shape=shape, ori_shape=shape, pad_shape=shape, batch_input_shape=shape,
                                         scale_factor=(1., 1.)))
    model.forward = functools.partial(model.forward, data_samples=[sample], mode='tensor')  # as get_flops does
    info = get_model_complexity_info(model, inputs=torch.randn(1, 3, *shape), show_table=False, show_arch=False)
    assert round(info['flops'] / 1e9) == 269
    assert round(info['params'] / 1e6) == 41
