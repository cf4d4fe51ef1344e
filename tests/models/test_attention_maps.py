"""uniformer_mm.attention_maps: the recorded attention is the attention the blocks apply."""
import pytest
import torch

from uniformer_mm.attention_maps import (CLASS_TOKEN, MERGED_TOKEN, attention_block, grad_cam_target_layer,
                                         record_attention)
from uniformer_mm.models.backbones.uniformer import TokenPruningBlock, UniFormer2D, UniFormer3D

from helpers import randomize_, sharpen_attention_

TINY = dict(depths=(1, 1, 2, 2), embed_dims=(16, 32, 64, 128), head_dim=16)
TINY_LIGHT = dict(TINY, light=True, depths=(1, 1, 3, 2))


def _tiny(arch, backbone=UniFormer2D, **kwargs):
    model = backbone(arch=arch, **kwargs)
    randomize_(model)
    return sharpen_attention_(model).eval()


def _attention_outputs(block):
    """Captures what the block's attention module receives and returns."""
    seen = {}
    attend = block.attn.attend

    def recording_attend(tokens, **kwargs):
        seen['tokens'] = tokens
        seen['out'] = attend(tokens, **kwargs)[0]
        return attend(tokens, **kwargs)

    block.attn.attend = recording_attend
    return seen


@pytest.mark.parametrize('arch,stage,block', [(TINY, 3, 0), (TINY, 4, -1), (TINY_LIGHT, 3, 0), (TINY_LIGHT, 3, 1),
                                              (TINY_LIGHT, 4, 1)])
def test_recomputed_probabilities_give_the_block_output(arch, stage, block):
    model = _tiny(arch)
    seen = _attention_outputs(attention_block(model, stage, block))
    with record_attention(model, [(stage, block)]) as records, torch.no_grad():
        model(torch.randn(2, 3, 64, 96))
    record = records[(stage, block)]
    attn = attention_block(model, stage, block).attn
    torch.testing.assert_close(record.probabilities.sum(-1), torch.ones(record.probabilities.shape[:-1]))
    _, _, values = attn.split_heads(seen['tokens'])
    mixed = (record.probabilities @ values).transpose(1, 2).flatten(2)
    torch.testing.assert_close(attn.proj(mixed), seen['out'], rtol=1e-5, atol=1e-5)


def test_query_and_received_maps_on_the_grid():
    model = _tiny(TINY)
    with record_attention(model, [(4, -1)]) as records, torch.no_grad():
        model(torch.randn(1, 3, 64, 96))
    record = records[(4, -1)]
    assert record.grid == (2, 3)
    centre = record.query_map('centre')
    assert centre.shape == (1, 2, 3)
    torch.testing.assert_close(centre.sum(), torch.tensor(1.))
    torch.testing.assert_close(record.query_map((2, 1), head=0)[0].flatten(), record.probabilities[0, 0, 5])
    torch.testing.assert_close(record.received_map().sum(), torch.tensor(1.))
    assert record.kept.all()


def test_light_model_kept_tokens_are_those_that_attend():
    model = _tiny(TINY_LIGHT)
    block = attention_block(model, 3, 1)
    seen = _attention_outputs(block)
    grid_tokens = {}
    block.register_forward_pre_hook(lambda module, args: grid_tokens.update(x=args[0]))
    with record_attention(model, [(3, 1)]) as records, torch.no_grad():
        model(torch.randn(1, 3, 64, 64))
    record = records[(3, 1)]
    assert record.positions[0, 0] == CLASS_TOKEN and record.positions[0, -1] == MERGED_TOKEN
    # The block's own input tokens at the recorded kept positions, normalised, are the tokens that attended.
    tokens = block._embed_position(grid_tokens['x']).flatten(2).transpose(1, 2)
    kept_order = record.positions[0, 1:-1]
    torch.testing.assert_close(block.norm1(tokens[:, kept_order]), seen['tokens'][:, 1:-1])
    assert record.kept.sum() == len(kept_order) == 16 // 2
    assert torch.isnan(record.query_map('cls')[~record.kept]).all()
    assert record.scores.shape == (1, 16)


def test_video_backbone_attention_over_frames():
    model = _tiny(TINY, backbone=UniFormer3D)
    with record_attention(model, [(4, 0)]) as records, torch.no_grad():
        model(torch.randn(1, 3, 4, 64, 64))
    assert records[(4, 0)].query_map((1, 0, 1)).shape == (1, 2, 2, 2)


def test_hooks_are_removed_and_the_fast_path_is_unchanged():
    model = _tiny(TINY)
    inputs = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        expected = model(inputs)
        with record_attention(model, [(3, 0), (4, 1)]):
            recorded = model(inputs)
        assert not any(block._forward_pre_hooks or block.attn._forward_hooks for block in model.blocks4)
    for out, ref in zip(recorded, expected):
        torch.testing.assert_close(out, ref, rtol=0, atol=0)


@pytest.mark.parametrize('stage,block,message', [
    (1, 0, 'stage 1 has no self-attention'),
    (2, 0, 'stage 2 has no self-attention'),
    (4, 2, r'block must be in \[-2, 1\]'),
])
def test_blocks_without_attention_are_refused(stage, block, message):
    with pytest.raises(ValueError, match=message):
        attention_block(_tiny(TINY), stage, block)


def test_window_blocks_and_bad_queries_are_refused():
    with pytest.raises(ValueError, match='attends inside 2x2 windows'):
        attention_block(UniFormer2D(arch=TINY, attn_mode='window', window_size=2), 3, 0)
    model = _tiny(TINY)
    with record_attention(model, [(4, 0)]) as records, torch.no_grad():
        model(torch.randn(1, 3, 64, 64))
    with pytest.raises(ValueError, match='no class token'):
        records[(4, 0)].query_map('cls')
    with pytest.raises(ValueError, match='outside'):
        records[(4, 0)].query_map((5, 0))
    with pytest.raises(ValueError, match="head must be 'mean' or an index in \\[0, 7\\]"):
        records[(4, 0)].query_map(head=8)
    assert isinstance(attention_block(_tiny(TINY_LIGHT), 4, 0), TokenPruningBlock)


@pytest.mark.parametrize('backbone,layer', [
    (UniFormer2D(arch=TINY, out_indices=(3, ), out_norm='batch'), 'backbone.norm'),  # classifiers
    (UniFormer2D(arch=TINY, out_indices=(0, 1, 2)), 'backbone.norm3'),  # dense prediction
    (UniFormer3D(arch=TINY), 'backbone.norm'),  # video recognizers
])
def test_grad_cam_target_layer_is_the_last_normalised_map(backbone, layer):
    model = torch.nn.Module()
    model.backbone = backbone
    assert grad_cam_target_layer(model) == layer
    activations = []
    model.get_submodule(layer).register_forward_hook(lambda module, args, output: activations.append(output))
    with torch.no_grad():
        backbone(torch.randn(1, 3, 4, 64, 64) if isinstance(backbone, UniFormer3D) else torch.randn(1, 3, 64, 64))
    assert activations[0].dim() == backbone.ndim + 2  # a (B, C, ...) map, as Grad-CAM expects
    with pytest.raises(TypeError, match='backbone is a UniFormer'):
        grad_cam_target_layer(torch.nn.Linear(2, 2))
