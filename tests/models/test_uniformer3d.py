"""UniFormer3D: shapes, exact equality with the reference semantics, official checkpoints and 2D inflation."""
from pathlib import Path

import pytest
import torch
import torch.nn as nn
from mmengine.registry import DefaultScope

from uniformer_mm import CheckpointMismatchError, UniFormer2D, UniFormer3D
from uniformer_mm.models.backbones.checkpoint_loading import inflate_2d_to_3d
from uniformer_mm.models.backbones.uniformer import LocalBlock

from helpers import count_params, fabricate_official_state_dict, official_param_count, randomize_
from reference_uniformer import RefUniFormer3D

TINY = dict(depths=(1, 1, 2, 1), embed_dims=(16, 32, 64, 64), head_dim=16)
CLASSIFIER = 512 * 400 + 400


@pytest.mark.slow
@pytest.mark.parametrize('arch', ['small', 'base'])
def test_param_count_is_the_official_k400_layout_without_its_head(arch):
    assert count_params(UniFormer3D(arch=arch)) == official_param_count(f'video_{arch}_k400') - CLASSIFIER
    assert count_params(UniFormer3D(arch='small')) == 21_195_200


@pytest.mark.slow
@pytest.mark.parametrize('shape, expected', [((2, 3, 8, 64, 64), (2, 512, 4, 2, 2)),
                                             ((1, 3, 16, 96, 128), (1, 512, 8, 3, 4)),
                                             ((1, 3, 5, 64, 70), (1, 512, 3, 2, 3))])
def test_output_is_the_normed_last_stage(shape, expected):
    model = UniFormer3D(arch='small').eval()
    with torch.no_grad():
        assert model(torch.randn(shape)).shape == expected


def test_shares_the_blocks_of_the_image_backbone():
    video, image = UniFormer3D(arch=TINY), UniFormer2D(arch=TINY)
    assert type(video.blocks1[0]) is type(image.blocks1[0]) is LocalBlock
    assert type(video.blocks3[0]) is type(image.blocks3[0])
    assert isinstance(video.blocks1[0].attn, nn.Conv3d) and video.blocks1[0].attn.kernel_size == (5, 5, 5)


def test_equals_reference_implementation():
    model = UniFormer3D(arch='small').eval()
    reference = RefUniFormer3D(depths=(3, 4, 8, 3)).eval()
    randomize_(reference)
    model.load_state_dict(reference.state_dict())
    clip = torch.randn(1, 3, 8, 96, 96)
    with torch.no_grad():
        torch.testing.assert_close(model(clip), reference(clip), rtol=1e-5, atol=2e-5)


@pytest.mark.slow
@pytest.mark.parametrize('wrap', [lambda sd: dict(model_state=sd),  # PySlowFast release
                                  lambda sd: sd])
def test_kinetics_checkpoint_loads(tmp_path, wrap):
    state_dict = fabricate_official_state_dict('video_small_k400')
    torch.save(wrap(state_dict), tmp_path / 'k400.pth')
    model = UniFormer3D(arch='small')
    report = model.load_pretrained(str(tmp_path / 'k400.pth'))
    assert sorted(report['unused']) == ['head.bias', 'head.weight'] and not report['missing']
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, state_dict[key], rtol=0, atol=0)


@pytest.mark.slow
def test_mmaction_converted_checkpoint_loads(tmp_path):
    """mmaction2's UniFormer checkpoints keep the official names under a recognizer's 'backbone.'."""
    state_dict = fabricate_official_state_dict('video_base_k400')
    recognizer = {f'backbone.{k}': v for k, v in state_dict.items() if not k.startswith('head.')}
    recognizer.update({'cls_head.fc_cls.weight': state_dict['head.weight'],
                       'cls_head.fc_cls.bias': state_dict['head.bias']})
    torch.save(dict(meta=dict(mmaction_version='1.2.0'), state_dict=recognizer), tmp_path / 'mmaction.pth')
    model = UniFormer3D(arch='base', init_cfg=dict(type='Pretrained', checkpoint=str(tmp_path / 'mmaction.pth')))
    model.init_weights()
    torch.testing.assert_close(model.blocks4[6].attn.qkv.weight, state_dict['blocks4.6.attn.qkv.weight'])


@pytest.mark.slow
@pytest.mark.parametrize('inflate', ['avg', 'center'])
def test_imagenet_checkpoint_is_inflated(tmp_path, inflate):
    state_dict = fabricate_official_state_dict('image_small_in1k')
    torch.save(dict(model=state_dict), tmp_path / 'in1k.pth')
    model = UniFormer3D(arch='small', inflate=inflate,
                        init_cfg=dict(type='Pretrained', checkpoint=str(tmp_path / 'in1k.pth')))
    model.init_weights()
    for key, kernel_2d in [('patch_embed1.proj.weight', 'stem'), ('blocks1.0.attn.weight', 'local'),
                           ('blocks3.2.pos_embed.weight', 'dpe'), ('blocks2.1.conv1.weight', '1x1')]:
        weight_3d, weight_2d = model.state_dict()[key], state_dict[key]
        time = weight_3d.shape[2]
        if inflate == 'avg':
            expected = torch.stack([weight_2d / time] * time, dim=2)
        else:
            expected = torch.zeros_like(weight_3d)
            expected[:, :, time // 2] = weight_2d
        torch.testing.assert_close(weight_3d, expected, rtol=0, atol=0, msg=kernel_2d)
    torch.testing.assert_close(model.norm.running_var, state_dict['norm.running_var'])
    torch.testing.assert_close(model.blocks3[0].attn.qkv.weight, state_dict['blocks3.0.attn.qkv.weight'])


def test_avg_inflation_keeps_the_image_response_on_static_clips():
    conv_2d = nn.Conv2d(4, 6, 3, padding=1)
    conv_3d = nn.Conv3d(4, 6, 3, padding=1)
    conv_3d.load_state_dict(inflate_2d_to_3d(conv_2d.state_dict(), conv_3d.state_dict(), 'avg'))
    frame = torch.randn(1, 4, 8, 8)
    with torch.no_grad():
        static = conv_3d(frame.unsqueeze(2).repeat(1, 1, 5, 1, 1))
        torch.testing.assert_close(static[:, :, 1:-1], conv_2d(frame).unsqueeze(2).expand(-1, -1, 3, -1, -1))


def test_mismatched_video_checkpoint_raises(tmp_path):
    torch.save(dict(model_state=fabricate_official_state_dict('video_base_k400')), tmp_path / 'base.pth')
    model = UniFormer3D(arch='small', init_cfg=dict(type='Pretrained', checkpoint=str(tmp_path / 'base.pth')))
    with pytest.raises(CheckpointMismatchError, match=r'(?s)blocks1\.3\..*depths \(5, 8, 20, 7\).*3D patch stem'):
        model.init_weights()


def test_frozen_stages_and_norm_eval():
    model = UniFormer3D(arch=TINY, frozen_stages=4, norm_eval=False).train()
    assert not any(p.requires_grad for p in model.parameters()) and not model.norm.training
    model = UniFormer3D(arch=TINY, frozen_stages=1, norm_eval=True).train()
    assert not model.patch_embed1.proj.weight.requires_grad and model.patch_embed2.proj.weight.requires_grad
    assert not any(m.training for m in model.modules() if isinstance(m, nn.BatchNorm3d))


@pytest.mark.slow
def test_with_cp_gives_same_gradients():
    clip = torch.randn(2, 3, 4, 32, 32)
    grads = []
    for with_cp in (False, True):
        torch.manual_seed(0)
        model = UniFormer3D(arch=TINY, with_cp=with_cp, drop_path_rate=0.1).train()
        torch.manual_seed(1)
        model(clip).square().mean().backward()
        grads.append({n: p.grad for n, p in model.named_parameters()})
    for name in grads[0]:
        torch.testing.assert_close(grads[1][name], grads[0][name], rtol=1e-4, atol=1e-6, msg=name)


@pytest.mark.parametrize('kwargs, match', [(dict(arch='small_plus'), "unknown arch 'small_plus'"),
                                           (dict(arch=dict(TINY, conv_stem=True)), 'UniFormer2D only'),
                                           (dict(inflate='zero'), "unknown inflate 'zero'")])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        UniFormer3D(**kwargs)


@pytest.mark.parametrize('shape, match', [((1, 3, 64, 64), r'5D tensor \(B, C, T, H, W\)'),
                                          ((1, 1, 4, 64, 64), 'expects 3 input channels')])
def test_bad_inputs(shape, match):
    with pytest.raises(ValueError, match=match):
        UniFormer3D(arch=TINY)(torch.randn(shape))


def test_builds_in_mmaction_scope_next_to_mmactions_uniformer():
    from mmaction.models.backbones import UniFormer
    from mmaction.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmaction'):
        assert type(MODELS.build(dict(type='UniFormer3D', arch=TINY))) is UniFormer3D
        assert type(MODELS.build(dict(type='UniFormer', depth=[1, 1, 1, 1]))) is UniFormer


@pytest.mark.parametrize('mode', ['avg', 'center'])
def test_inflation_computes_in_float32_whatever_the_storage(mode):
    conv_2d, conv_3d = nn.Conv2d(8, 8, 3), nn.Conv3d(8, 8, 3)
    half = {k: v.half() for k, v in conv_2d.state_dict().items()}
    inflated = inflate_2d_to_3d(half, conv_3d.state_dict(), mode)
    expected = inflate_2d_to_3d({k: v.float() for k, v in half.items()}, conv_3d.state_dict(), mode)
    assert inflated['weight'].dtype == torch.float32
    torch.testing.assert_close(inflated['weight'], expected['weight'], rtol=0, atol=0)
    if mode == 'avg':  # dividing by 3 in float16 would round differently
        assert not torch.equal((half['weight'].unsqueeze(2) / 3).float(), expected['weight'][:, :, :1])


@pytest.mark.slow
def test_mmaction2_ported_recognizer_checkpoint_loads_strictly_into_our_config(tmp_path):
    """mmaction2's UniFormer-S port has our keys and shapes: its recognizer checkpoints load with --checkpoint."""
    from mmaction.registry import MODELS
    from mmaction.utils import register_all_modules
    from mmengine.config import Config
    from mmengine.runner import load_checkpoint
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(str(Path(__file__).resolve().parents[2] / 'configs/mmaction/'
                              'uniformer3d-s_in1k-pre_8xb8-16x4x1-200e_kinetics400-rgb.py'))
    cfg.model.backbone.init_cfg = None
    with DefaultScope.overwrite_default_scope('mmaction'):
        theirs = MODELS.build(dict(type='UniFormer', depth=[3, 4, 8, 3], embed_dim=[64, 128, 320, 512], head_dim=64))
        recognizer = MODELS.build(cfg.model)
    randomize_(theirs)
    state_dict = {f'backbone.{k}': v for k, v in theirs.state_dict().items()}
    state_dict.update({'cls_head.fc_cls.weight': torch.randn(400, 512), 'cls_head.fc_cls.bias': torch.randn(400)})
    torch.save(dict(meta=dict(mmaction_version='1.2.0'), state_dict=state_dict), tmp_path / 'port.pth')
    load_checkpoint(recognizer, str(tmp_path / 'port.pth'), strict=True)
    torch.testing.assert_close(recognizer.backbone.blocks3[1].attn.qkv.weight, theirs.blocks3[1].attn.qkv.weight)
