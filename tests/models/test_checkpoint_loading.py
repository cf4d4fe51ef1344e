"""Loading official checkpoints, fabricated in their exact layouts, through init_cfg=Pretrained."""
import pytest
import torch

from uniformer_mm import CheckpointMismatchError, UniFormer2D

from helpers import fabricate_official_state_dict


def pretrained(path, **kwargs):
    model = UniFormer2D(init_cfg=dict(type='Pretrained', checkpoint=str(path)), **kwargs)
    model.init_weights()
    return model


def assert_loaded(model, state_dict, prefix=''):
    own = model.state_dict()
    for key, value in state_dict.items():
        if key.startswith(prefix) and key[len(prefix):] in own:
            torch.testing.assert_close(own[key[len(prefix):]], value, rtol=0, atol=0)


def downstream(state_dict, prefix='backbone.'):
    """An OpenMMLab 1.x downstream checkpoint: meta, the whole model under state_dict, optimizer."""
    model = {prefix + k: v for k, v in state_dict.items()}
    model['neck.lateral_convs.0.conv.weight'] = torch.zeros(256, 64, 1, 1)
    model['roi_head.bbox_head.fc_cls.weight'] = torch.zeros(81, 1024)
    return dict(meta=dict(epoch=12, mmdet_version='2.11.0'), state_dict=model, optimizer={})


@pytest.mark.slow
@pytest.mark.parametrize('wrap, prefix', [
    (lambda sd: dict(model=sd), ''),  # ImageNet release
    (lambda sd: dict(model={f'module.{k}': v for k, v in sd.items()}), ''),  # saved from DDP
    (lambda sd: dict(state_dict=sd), ''),
    (lambda sd: sd, ''),  # bare state dict
])
def test_imagenet_checkpoint_loads_in_every_wrapper(tmp_path, wrap, prefix):
    state_dict = fabricate_official_state_dict('image_small_in1k')
    torch.save(wrap(state_dict), tmp_path / 'ckpt.pth')
    model = pretrained(tmp_path / 'ckpt.pth', arch='small', attn_mode='hybrid')
    assert_loaded(model, state_dict)


def test_imagenet_checkpoint_reports_what_it_did_not_load(tmp_path):
    torch.save(dict(model=fabricate_official_state_dict('image_small_in1k')), tmp_path / 'in1k.pth')
    model = UniFormer2D(arch='small', attn_mode='hybrid')
    report = model.load_pretrained(str(tmp_path / 'in1k.pth'))
    assert sorted(report['missing']) == sorted(f'norm{i}.{p}' for i in range(1, 5) for p in ('weight', 'bias'))
    assert {k.split('.')[0] for k in report['unused']} == {'norm', 'head'}
    assert len(report['loaded']) == 331 - 7  # every tensor but the BatchNorm `norm` (5) and `head` (2)


@pytest.mark.slow
def test_imagenet_checkpoint_keeps_fresh_output_norms(tmp_path):
    torch.save(dict(model=fabricate_official_state_dict('image_base_in1k')), tmp_path / 'in1k.pth')
    model = pretrained(tmp_path / 'in1k.pth', arch='base', attn_mode='hybrid')
    torch.testing.assert_close(model.norm3.weight, torch.ones(320))


@pytest.mark.slow
@pytest.mark.parametrize('prefix', ['backbone.', 'module.backbone.'])
def test_downstream_checkpoint_loads_its_backbone(tmp_path, prefix):
    state_dict = fabricate_official_state_dict('detseg_backbone_small')
    torch.save(downstream(state_dict, prefix), tmp_path / 'mask_rcnn.pth')
    model = pretrained(tmp_path / 'mask_rcnn.pth', arch='small', attn_mode='hybrid')
    assert_loaded(model, state_dict)
    torch.testing.assert_close(model.norm1.weight, state_dict['norm1.weight'])


@pytest.mark.slow
def test_downstream_checkpoint_with_fewer_outputs(tmp_path):
    state_dict = fabricate_official_state_dict('detseg_backbone_base')
    torch.save(downstream(state_dict), tmp_path / 'pose.pth')
    model = UniFormer2D(arch='base', out_indices=(3, ))
    report = model.load_pretrained(str(tmp_path / 'pose.pth'))
    assert sorted({k.split('.')[0] for k in report['unused']}) == ['norm1', 'norm2', 'norm3']


@pytest.mark.slow
@pytest.mark.parametrize('arch', ['small_plus', 'small_plus_dim64', 'base_ls'])
def test_other_imagenet_variants_load(tmp_path, arch):
    state_dict = fabricate_official_state_dict(f'image_{arch}_in1k')
    torch.save(dict(model=state_dict), tmp_path / 'in1k.pth')
    assert_loaded(pretrained(tmp_path / 'in1k.pth', arch=arch), state_dict)


def test_wrong_depths_name_keys_and_layouts(tmp_path):
    torch.save(dict(model=fabricate_official_state_dict('image_base_in1k')), tmp_path / 'base.pth')
    with pytest.raises(CheckpointMismatchError) as info:
        pretrained(tmp_path / 'base.pth', arch='small')
    message = str(info.value)
    assert 'not in the model: blocks1.3.' in message
    assert 'depths (5, 8, 20, 7)' in message and 'depths (3, 4, 8, 3)' in message
    assert 'head_dim' in message


def test_conv_stem_checkpoint_into_patch_stem_model(tmp_path):
    torch.save(dict(model=fabricate_official_state_dict('image_small_plus_in1k')), tmp_path / 'sp.pth')
    with pytest.raises(CheckpointMismatchError, match=r'(?s)missing from the checkpoint: .*conv stem'):
        pretrained(tmp_path / 'sp.pth', arch='small')


def test_shape_mismatch_names_keys_and_shapes(tmp_path):
    state_dict = fabricate_official_state_dict('detseg_backbone_small')
    torch.save(dict(state_dict=state_dict), tmp_path / 'small.pth')
    arch = dict(depths=(3, 4, 8, 3), embed_dims=(64, 128, 256, 512), head_dim=64)
    with pytest.raises(CheckpointMismatchError) as info:
        pretrained(tmp_path / 'small.pth', arch=arch)
    assert 'patch_embed3.proj.weight (checkpoint (320, 128, 2, 2), model (256, 128, 2, 2))' in str(info.value)
    assert 'embed_dims (64, 128, 320, 512)' in str(info.value)


def test_video_checkpoint_into_image_backbone(tmp_path):
    torch.save(dict(model_state=fabricate_official_state_dict('video_small_k400')), tmp_path / 'k400.pth')
    with pytest.raises(CheckpointMismatchError, match=r'(?s)shape mismatch: .*3D patch stem'):
        pretrained(tmp_path / 'k400.pth', arch='small')


def test_not_a_state_dict(tmp_path):
    torch.save(dict(model=dict(epoch=3)), tmp_path / 'odd.pth')
    with pytest.raises(CheckpointMismatchError, match='no state dict found'):
        pretrained(tmp_path / 'odd.pth')


def test_failed_load_leaves_weights_untouched(tmp_path):
    state_dict = fabricate_official_state_dict('image_base_in1k')
    torch.save(dict(model=state_dict), tmp_path / 'base.pth')
    model = UniFormer2D(arch='small', init_cfg=dict(type='Pretrained', checkpoint=str(tmp_path / 'base.pth')))
    before = model.patch_embed1.proj.weight.clone()
    with pytest.raises(CheckpointMismatchError):
        model.init_weights()
    torch.testing.assert_close(model.patch_embed1.proj.weight, before, rtol=0, atol=0)


@pytest.mark.parametrize('corrupt, message', [
    (lambda sd: sd.update({'blocks3.0.attn.qkv.weight': sd['blocks3.0.attn.qkv.weight'].long()}),
     r"dtype of another kind than the model's: blocks3.0.attn.qkv.weight \(torch.int64, model torch.float32\)"),
    (lambda sd: sd['blocks1.0.conv1.weight'].view(-1)[:3].fill_(float('nan')),
     r'NaN or infinite values: blocks1.0.conv1.weight \(3 of 4096\)'),
    (lambda sd: sd['norm4.bias'].view(-1)[0].fill_(float('inf')), r'NaN or infinite values: norm4.bias \(1 of 512\)'),
])
def test_values_that_would_load_wrongly_are_refused_and_nothing_loads(tmp_path, corrupt, message):
    state_dict = fabricate_official_state_dict('detseg_backbone_small')
    corrupt(state_dict)
    torch.save(dict(state_dict=state_dict), tmp_path / 'bad.pth')
    model = UniFormer2D(arch='small', init_cfg=dict(type='Pretrained', checkpoint=str(tmp_path / 'bad.pth')))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(CheckpointMismatchError, match=message) as error:
        model.init_weights()
    assert str(tmp_path / 'bad.pth') in str(error.value) and 'Nothing was loaded' in str(error.value)
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_float16_checkpoint_loads_as_float32(tmp_path):
    state_dict = fabricate_official_state_dict('image_small_in1k')
    torch.save(dict(model={k: v.half() if v.is_floating_point() else v for k, v in state_dict.items()}),
               tmp_path / 'half.pth')
    model = pretrained(tmp_path / 'half.pth', arch='small')
    assert model.blocks3[0].attn.qkv.weight.dtype == torch.float32
    torch.testing.assert_close(model.blocks3[0].attn.qkv.weight, state_dict['blocks3.0.attn.qkv.weight'].half().float(),
                               rtol=0, atol=0)


def test_keys_from_the_file_are_shown_escaped(tmp_path):
    state_dict = fabricate_official_state_dict('image_small_in1k')
    state_dict['\x1b[2J\x1b[32mloaded OK\x1b[0m'] = torch.zeros(1)
    torch.save(dict(model=state_dict), tmp_path / 'odd.pth')
    with pytest.raises(CheckpointMismatchError) as error:
        pretrained(tmp_path / 'odd.pth', arch='small')
    assert 'not in the model: \\x1b[2J\\x1b[32mloaded OK\\x1b[0m' in str(error.value)
    assert '\x1b' not in str(error.value)


def test_init_weights_and_the_converters_share_one_public_loading_path(tmp_path, monkeypatch):
    """init_cfg goes through the backbone's own load_pretrained; explain_load_gaps is what the converters ask."""
    calls = []
    monkeypatch.setattr(UniFormer2D, 'load_pretrained', lambda self, checkpoint: calls.append(checkpoint))
    UniFormer2D(init_cfg=dict(type='Pretrained', checkpoint='x.pth')).init_weights()
    assert calls == ['x.pth']
    gaps = UniFormer2D(out_indices=(3, )).explain_load_gaps([], ['norm2.weight', 'head.weight', 'other'])
    assert set(gaps) == {'norm2.weight', 'head.weight'}
