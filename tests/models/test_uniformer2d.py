"""UniFormer2D: shapes, exact equality with the reference semantics, stage-3 variants, training switches."""
import pytest
import torch
import torch.nn as nn

from uniformer_mm import UniFormer2D
from uniformer_mm.models.backbones.uniformer import AttentionBlock, LocalBlock

from helpers import count_params, fabricate_official_state_dict, official_param_count, randomize_
from reference_uniformer import RefUniFormer

TINY = dict(depths=(1, 1, 5, 1), embed_dims=(16, 32, 64, 64), head_dim=16)


def block_kinds(model: UniFormer2D, stage: int):
    return ['window' if block.window_size else 'global' for block in getattr(model, f'blocks{stage}')]


@pytest.mark.parametrize('arch, expected', [('small', 21_033_280), ('base', 49_264_576)])
def test_param_count_matches_official_dense_backbone(arch, expected):
    model = UniFormer2D(arch=arch, attn_mode='hybrid')
    assert count_params(model) == expected
    assert expected == official_param_count(f'detseg_backbone_{arch}')


@pytest.mark.slow
@pytest.mark.parametrize('arch, expected', [('small', 21_033_280), ('small_plus', 23_520_576),
                                            ('small_plus_dim64', 23_520_576), ('base', 49_264_576),
                                            ('base_ls', 49_284_544)])
def test_param_counts_in_the_readme_table(arch, expected):
    assert count_params(UniFormer2D(arch=arch)) == expected


@pytest.mark.slow
@pytest.mark.parametrize('arch, ckpt', [('small_plus', 'image_small_plus_in1k'),
                                        ('small_plus_dim64', 'image_small_plus_dim64_in1k'),
                                        ('base_ls', 'image_base_ls_in1k')])
def test_param_count_matches_imagenet_layout_without_classifier(arch, ckpt):
    model = UniFormer2D(arch=arch, out_indices=(3, ))
    # ImageNet checkpoints add a BatchNorm (norm) and a 1000-way classifier (head) instead of norm4.
    classifier = 512 * 1000 + 1000 + 2 * 512
    assert count_params(model) - 2 * 512 == official_param_count(ckpt) - classifier


@pytest.mark.slow
@pytest.mark.parametrize('size', [(224, 224), (256, 192), (320, 480), (64, 96)])
def test_output_shapes(size):
    model = UniFormer2D(arch='small', attn_mode='hybrid').eval()
    with torch.no_grad():
        outs = model(torch.randn(2, 3, *size))
    assert [o.shape for o in outs] == [
        (2, c, size[0] // s, size[1] // s) for c, s in zip((64, 128, 320, 512), (4, 8, 16, 32))]


def test_sides_not_multiple_of_32_are_padded():
    model = UniFormer2D(arch=TINY, attn_mode='window', window_size=3).eval()
    image = torch.randn(1, 3, 100, 150)
    with torch.no_grad():
        outs = model(image)
        padded = model(torch.nn.functional.pad(image, (0, 10, 0, 28)))
    assert [o.shape[-2:] for o in outs] == [(32, 40), (16, 20), (8, 10), (4, 5)]
    for out, ref in zip(outs, padded):
        torch.testing.assert_close(out, ref, rtol=0, atol=0)


def test_out_indices_select_normed_stage_outputs():
    model = UniFormer2D(arch=TINY, out_indices=(1, 3)).eval()
    assert not hasattr(model, 'norm1') and hasattr(model, 'norm2') and hasattr(model, 'norm4')
    with torch.no_grad():
        outs = model(torch.randn(1, 3, 64, 64))
    assert [o.shape[1] for o in outs] == [32, 64]


@pytest.mark.slow
@pytest.mark.parametrize('arch, mode, expected', [
    ('small', 'global', ['global'] * 8),
    ('small', 'window', ['window'] * 8),
    ('small', 'hybrid', ['window'] * 3 + ['global'] + ['window'] * 3 + ['global']),
    ('base', 'global', ['global'] * 20),
    ('base', 'window', ['window'] * 20),
    ('base', 'hybrid', (['window'] * 3 + ['global']) * 5),
])
def test_stage3_block_kinds(arch, mode, expected):
    model = UniFormer2D(arch=arch, attn_mode=mode)
    assert block_kinds(model, 3) == expected
    assert block_kinds(model, 4) == ['global'] * len(model.blocks4), 'stage 4 is always global'
    assert all(isinstance(b, LocalBlock) for b in [*model.blocks1, *model.blocks2])
    assert all(b.window_size in (None, 14) for b in model.blocks3)


@pytest.mark.parametrize('mode', ['global', *(pytest.param(m, marks=pytest.mark.slow) for m in ('window', 'hybrid'))])
@pytest.mark.parametrize('size', [(224, 224), pytest.param((256, 320), marks=pytest.mark.slow)])
def test_equals_reference_implementation(mode, size):
    """Same weights and input as the reference semantics: equal to float32 rounding, padding included
    (stage 3 of 256x320 is 16x20, not a multiple of the 14-wide window)."""
    model = UniFormer2D(arch='small', attn_mode=mode).eval()
    reference = RefUniFormer(depths=(3, 4, 8, 3), attn_mode=mode).eval()
    randomize_(reference)
    model.load_state_dict(reference.state_dict())
    image = torch.randn(2, 3, *size)
    with torch.no_grad():
        for out, expected in zip(model(image), reference(image)):
            torch.testing.assert_close(out, expected, rtol=1e-5, atol=2e-5)


def test_layer_scale_equals_reference():
    arch = dict(TINY, layer_scale=0.5)
    model = UniFormer2D(arch=arch, attn_mode='hybrid', window_size=2).eval()
    reference = RefUniFormer(TINY['depths'], TINY['embed_dims'], 16, 'hybrid', 2, layer_scale=0.5).eval()
    randomize_(reference)
    model.load_state_dict(reference.state_dict())
    image = torch.randn(1, 3, 96, 64)
    with torch.no_grad():
        for out, expected in zip(model(image), reference(image)):
            torch.testing.assert_close(out, expected, rtol=1e-5, atol=2e-5)


def test_window_padding_is_unmasked_like_the_official_release():
    """Padded zero tokens are keys and values (through the qkv bias): the result differs from attending
    over the valid tokens only, and equals the reference's explicit pad-and-attend."""
    block = AttentionBlock(dim=32, num_heads=2, window_size=4).eval()
    randomize_(block)
    tokens = torch.randn(1, 5 * 6, 32)
    with torch.no_grad():
        unmasked = block._window_attention(tokens, 5, 6).view(1, 5, 6, 32)
        top_left_valid_only = block.attn(tokens.view(1, 5, 6, 32)[:, :4, :4].reshape(1, 16, 32))
        bottom_right = tokens.view(1, 5, 6, 32)[:, 4:, 4:].reshape(1, 2, 32)
        masked_corner = block.attn(bottom_right)
        padded_corner = torch.nn.functional.pad(tokens.view(1, 5, 6, 32)[:, 4:, 4:], (0, 0, 0, 2, 0, 3))
        unmasked_corner = block.attn(padded_corner.reshape(1, 16, 32)).view(1, 4, 4, 32)[:, :1, :2]
    torch.testing.assert_close(unmasked[:, :4, :4].reshape(1, 16, 32), top_left_valid_only)
    torch.testing.assert_close(unmasked[:, 4:, 4:], unmasked_corner)
    assert not torch.allclose(unmasked[:, 4:, 4:].reshape(1, 2, 32), masked_corner, atol=1e-4)


def test_drop_path_rates_increase_linearly_over_all_blocks():
    model = UniFormer2D(arch='small', drop_path_rate=0.2)
    rates = [0.0 if isinstance(b.drop_path, nn.Identity) else b.drop_path.drop_prob
             for stage in range(1, 5) for b in getattr(model, f'blocks{stage}')]
    torch.testing.assert_close(torch.tensor(rates), torch.linspace(0, 0.2, 18))


def test_with_cp_gives_same_outputs_and_gradients():
    image = torch.randn(2, 3, 64, 64)
    results = []
    for with_cp in (False, (1, 0, 3, 1), True):
        torch.manual_seed(0)
        model = UniFormer2D(arch=TINY, attn_mode='hybrid', window_size=2, with_cp=with_cp)
        model.train()
        outs = model(image)
        sum(o.square().mean() for o in outs).backward()
        results.append((outs, {n: p.grad.clone() for n, p in model.named_parameters()}))
    (ref_outs, ref_grads), *others = results
    for outs, grads in others:
        for out, ref in zip(outs, ref_outs):
            torch.testing.assert_close(out, ref)
        assert grads.keys() == ref_grads.keys()
        for name in grads:
            torch.testing.assert_close(grads[name], ref_grads[name], rtol=1e-4, atol=1e-6, msg=name)


def test_with_cp_per_stage_counts():
    model = UniFormer2D(arch='small', with_cp=(0, 0, 8, 0))
    assert model.checkpointed_blocks == (0, 0, 8, 0)
    assert UniFormer2D(arch='small', with_cp=True).checkpointed_blocks == (3, 4, 8, 3)
    with pytest.raises(ValueError, match='checkpoint_num'):
        UniFormer2D(arch='small', with_cp=(0, 8))


@pytest.mark.parametrize('frozen_stages', [0, 2, 4])
def test_frozen_stages(frozen_stages):
    model = UniFormer2D(arch=TINY, frozen_stages=frozen_stages)
    model.train()
    frozen_prefixes = ['patch_embed1.'] + [p for s in range(1, frozen_stages + 1)
                                           for p in (f'patch_embed{s}.', f'blocks{s}.', f'norm{s}.')]
    for name, param in model.named_parameters():
        assert param.requires_grad != any(name.startswith(p) for p in frozen_prefixes), name
    for name, module in model.named_modules():
        if isinstance(module, nn.BatchNorm2d):
            assert module.training != any(f'{name}.'.startswith(p) for p in frozen_prefixes), name
    loss = sum(o.sum() for o in model(torch.randn(2, 3, 64, 64)))
    assert loss.requires_grad == (frozen_stages < 4)
    if loss.requires_grad:
        loss.backward()
        assert all(p.grad is None for p in model.parameters() if not p.requires_grad)


def test_frozen_stages_keep_batchnorm_statistics():
    model = UniFormer2D(arch=TINY, frozen_stages=1)
    model.train()
    before = model.blocks1[0].norm1.running_mean.clone()
    model(torch.randn(2, 3, 64, 64))
    torch.testing.assert_close(model.blocks1[0].norm1.running_mean, before)
    assert not torch.equal(model.blocks2[0].norm1.running_mean, torch.zeros(32))


def test_norm_eval_keeps_batchnorm_in_eval_mode():
    model = UniFormer2D(arch=TINY, norm_eval=True)
    model.train()
    batch_norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert batch_norms and not any(m.training for m in batch_norms)
    assert model.blocks3[0].norm1.training, 'LayerNorms follow the module mode'
    assert all(p.requires_grad for p in model.parameters()), 'norm_eval does not freeze parameters'
    assert all(m.training for m in UniFormer2D(arch=TINY).train().modules())


def test_small_plus_conv_stem_shapes():
    model = UniFormer2D(arch='small_plus').eval()
    assert model.blocks3[0].attn.num_heads == 10, 'small_plus uses head_dim 32'
    with torch.no_grad():
        outs = model(torch.randn(1, 3, 64, 64))
    assert [o.shape for o in outs] == [(1, 64, 16, 16), (1, 128, 8, 8), (1, 320, 4, 4), (1, 512, 2, 2)]


def test_official_detseg_backbone_loads_without_renaming():
    model = UniFormer2D(arch='small', attn_mode='hybrid')
    state_dict = fabricate_official_state_dict('detseg_backbone_small')
    model.load_state_dict(state_dict, strict=True)


@pytest.mark.parametrize('kwargs, error, match', [
    (dict(arch='tiny'), ValueError, "unknown arch 'tiny'"),
    (dict(arch=dict(depths=(1, 1, 1, 1))), ValueError, 'needs keys'),
    (dict(arch=dict(TINY, depths=(1, 1, 1))), ValueError, 'must have 4 entries'),
    (dict(arch=dict(TINY, head_dim=24)), ValueError, 'not divisible by head_dim'),
    (dict(arch=3), TypeError, 'must be a str or a dict'),
    (dict(attn_mode='shifted'), ValueError, "unknown attn_mode 'shifted'"),
    (dict(window_size=0), ValueError, 'window_size'),
    (dict(out_indices=(4, )), ValueError, 'out_indices'),
    (dict(frozen_stages=5), ValueError, 'frozen_stages'),
])
def test_bad_arguments_raise_clear_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        UniFormer2D(**kwargs)


@pytest.mark.parametrize('shape, match', [
    ((1, 1, 64, 64), 'expects 3 input channels, got 1'),
    ((3, 64, 64), r'expects a 4D tensor \(B, C, H, W\), got shape \(3, 64, 64\)'),
    ((1, 3, 2, 64, 64), 'expects a 4D tensor'),
])
def test_bad_inputs_raise_clear_errors(shape, match):
    model = UniFormer2D(arch=TINY)
    with pytest.raises(ValueError, match=match):
        model(torch.randn(shape))
