"""mmengine's FLOP counter (and so the codebases' get_flops tools) counts scaled_dot_product_attention once
uniformer_mm is imported, and reaches the published figures; uniformer_mm.apis.count_complexity, which the
model-zoo tables and metafiles are written from, reproduces the metafiles' FLOPs."""
import functools

import pytest
import torch
import torch.nn.functional as F
import yaml
from mmengine.analysis import get_model_complexity_info

from uniformer_mm import UniFormer3D
from uniformer_mm.apis import build_model_from_config, count_complexity, format_gflops

from helpers import MIM, ROOT, run


class Attention(torch.nn.Module):

    def forward(self, query, key, value):
        return F.scaled_dot_product_attention(query, key, value)


def gflops(model, shape):
    return get_model_complexity_info(model.eval(), input_shape=shape, show_table=False, show_arch=False)['flops'] / 1e9


def test_attention_counts_scores_and_weighted_values():
    inputs = (torch.randn(2, 3, 5, 8), torch.randn(2, 3, 7, 8), torch.randn(2, 3, 7, 4))
    flops = get_model_complexity_info(Attention(), inputs=inputs, show_table=False, show_arch=False)['flops']
    assert flops == 2 * 3 * 5 * 7 * (8 + 4)


@pytest.mark.slow
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
    # the codebase's own tool, which imports uniformer_mm through the config: its printout is what users read
    assert expected in run([MIM, 'run', codebase, 'get_flops', config, *args], timeout=600)


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


def assert_complexity_matches_the_metafile(name):
    """``count_complexity`` of the config named ``name`` gives its metafile's parameters, FLOPs input and FLOPs."""
    (entry, ) = [model for codebase in ('mmdet', 'mmseg', 'mmpose', 'mmpretrain')
                 for model in yaml.safe_load((ROOT / 'configs' / codebase / 'metafile.yml').read_text())['Models']
                 if model['Name'] == name]
    complexity = count_complexity(str(ROOT / entry['Config']))
    assert complexity.params == entry['Metadata']['Parameters']
    assert '{}x{}'.format(*complexity.input_size) == entry['Metadata']['FLOPs Input']
    assert format_gflops(complexity.flops) == entry['Metadata']['FLOPs']


def test_gflops_are_written_as_the_tables_write_them():
    assert (format_gflops(0.44e9), format_gflops(41.757e9), format_gflops(99.94e9)) == ('0.4G', '41.8G', '99.9G')
    assert (format_gflops(99.96e9), format_gflops(268.6e9)) == ('100G', '269G')


def test_light_classifier_complexity_matches_the_metafile():
    assert_complexity_matches_the_metafile('uniformer-xxs_8xb512_in1k-128px')


# One config per kind of model (30-60 s of FLOP counting each on 2 cores): each detector, segmentor and pose
# head, with global, window and hybrid stage 3, and both classifier heads (linear at 224, token labeling at 384).
@pytest.mark.slow
@pytest.mark.parametrize('name', [
    'mask-rcnn_uniformer-s-h14_fpn_1x_coco', 'cascade-mask-rcnn_uniformer-b-h14_fpn_4conv1fc-giou_ms-crop-3x_coco',
    'upernet_uniformer-s_8xb2-160k_ade20k-512x512', 'fpn_uniformer-b-w32_8xb4-80k_ade20k-512x512',
    'td-hm_uniformer-s_8xb64-210e_coco-448x320', 'uniformer-small_8xb128_in1k', 'uniformer-small-tl_8xb64_in1k-384px'
])
def test_complexity_matches_the_metafile(name):
    assert_complexity_matches_the_metafile(name)
