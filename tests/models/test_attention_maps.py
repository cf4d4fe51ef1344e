"""uniformer_mm.attention_maps: the recorded attention is the attention the blocks apply."""

import mmcv
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from uniformer_mm.attention_maps import (CLASS_TOKEN, MERGED_TOKEN, PADDING_TOKEN, attention_block,
                                         grad_cam_target_layer, record_attention)
from uniformer_mm.models.backbones.uniformer import TokenPruningBlock, UniFormer2D, UniFormer3D

from helpers import ROOT, load_script, randomize_, sharpen_attention_

TINY = dict(depths=(1, 1, 2, 2), embed_dims=(16, 32, 64, 128), head_dim=16)
TINY_LIGHT = dict(TINY, light=True, depths=(1, 1, 3, 2))
# Stage 3 of a (64, 96) input is a 4x6 token grid: windows of 2 tile it, windows of 4 pad its width to 8,
# windows of 5 pad both sides (to 5x10).
WINDOW_INPUT = (64, 96)


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


def _window_of(row, col, size, grid):
    """The (H', W') bool mask of the window that holds token (row, col)."""
    mask = torch.zeros(grid, dtype=torch.bool)
    mask[row // size * size:(row // size + 1) * size, col // size * size:(col // size + 1) * size] = True
    return mask


@pytest.mark.parametrize('window_size,num_windows', [(2, 6), (4, 2), (5, 2)])
def test_window_attention_stays_inside_the_query_window(window_size, num_windows):
    model = _tiny(TINY, attn_mode='window', window_size=window_size)
    with record_attention(model, [(3, 0)]) as records, torch.no_grad():
        model(torch.randn(2, 3, *WINDOW_INPUT))
    record = records[(3, 0)]
    assert record.grid == (4, 6) and record.window_size == window_size and record.kept.all()
    assert record.probabilities.shape == (2, 4, num_windows, window_size**2, window_size**2)
    assert record.positions.shape == (2, num_windows, window_size**2)
    assert (record.positions == PADDING_TOKEN).sum() == 2 * (num_windows * window_size**2 - 4 * 6)
    # Every row, padding queries included, is a distribution over its window's tokens and padding.
    torch.testing.assert_close(record.probabilities.sum(-1), torch.ones(record.probabilities.shape[:-1]))
    for row in range(4):
        for col in range(6):
            window = _window_of(row, col, window_size, record.grid)
            for head in ('mean', 1):
                query = record.query_map((col, row), head=head)
                assert (query[:, ~window] == 0).all() and (query[:, window] > 0).all()
                assert (query.sum(dim=(1, 2)) <= 1 + 1e-6).all()
            # A window that needs no padding gives the query all of its attention.
            if window.sum() == window_size**2:
                torch.testing.assert_close(query.sum(dim=(1, 2)), torch.ones(2))


def test_window_received_map_averages_over_the_window_queries():
    model = _tiny(TINY, attn_mode='window', window_size=5)
    with record_attention(model, [(3, 1)]) as records, torch.no_grad():
        model(torch.randn(1, 3, *WINDOW_INPUT))
    record = records[(3, 1)]
    summed = torch.zeros(1, 4, 6)
    queries_per_window = torch.zeros(4, 6)
    for row in range(4):
        for col in range(6):
            summed += record.query_map((col, row), head=0)
            queries_per_window += _window_of(row, col, 5, record.grid)
    torch.testing.assert_close(record.received_map(head=0), summed / queries_per_window)


@pytest.mark.parametrize('window_size', [2, 5])
def test_window_probabilities_give_the_block_output(window_size):
    """An independent statement of the block's window attention (pad the normalised map with zeros, take each
    window's queries, keys and values from the qkv weights) agrees with the recorded probabilities, and those
    times the values give what the block's window attention returned."""
    model = _tiny(TINY, attn_mode='window', window_size=window_size)
    block = attention_block(model, 3, 0)
    seen = {}
    window_attention = block._window_attention

    def recording_window_attention(tokens, height, width):
        seen['out'] = window_attention(tokens, height, width)
        return seen['out']

    block._window_attention = recording_window_attention
    block.norm1.register_forward_hook(lambda module, args, normed: seen.update(normed=normed))
    with record_attention(model, [(3, 0)]) as records, torch.no_grad():
        model(torch.randn(2, 3, *WINDOW_INPUT))
    record = records[(3, 0)]
    attn = block.attn
    num_heads, dim = attn.num_heads, seen['normed'].shape[-1]
    normed = F.pad(seen['normed'].reshape(2, 4, 6, dim), (0, 0, 0, -6 % window_size, 0, -4 % window_size))
    out = seen['out'].reshape(2, 4, 6, dim)
    cols = normed.shape[2] // window_size
    for window in range(record.probabilities.shape[2]):
        top, left = window // cols * window_size, window % cols * window_size
        tokens = normed[:, top:top + window_size, left:left + window_size].reshape(2, window_size**2, dim)
        qkv = (tokens @ attn.qkv.weight.T + attn.qkv.bias).reshape(2, -1, 3, num_heads, dim // num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        probabilities = (q @ k.transpose(-2, -1) / (dim // num_heads)**0.5).softmax(dim=-1)
        torch.testing.assert_close(record.probabilities[:, :, window], probabilities)
        mixed = attn.proj((record.probabilities[:, :, window] @ v).transpose(1, 2).flatten(2))
        mixed = mixed.reshape(2, window_size, window_size, dim)
        on_grid = out[:, top:top + window_size, left:left + window_size]
        rows, columns = on_grid.shape[1:3]
        torch.testing.assert_close(mixed[:, :rows, :columns], on_grid, rtol=1e-5, atol=1e-5)


def test_hybrid_stage_3_records_window_and_global_blocks_alike():
    model = _tiny(dict(TINY, depths=(1, 1, 4, 2)), attn_mode='hybrid', window_size=3)
    with record_attention(model, [(3, 0), (3, 3)]) as records, torch.no_grad():
        model(torch.randn(1, 3, *WINDOW_INPUT))
    window, full = records[(3, 0)], records[(3, 3)]
    assert (window.window_size, full.window_size) == (3, None)
    assert window.query_map('centre').shape == full.query_map('centre').shape == (1, 4, 6)
    assert (window.query_map('centre') == 0).sum() > 0 and (full.query_map('centre') > 0).all()


@pytest.mark.parametrize('attn_mode', ['global', 'window'])
def test_hooks_are_removed_and_the_fast_path_is_unchanged(attn_mode):
    model = _tiny(TINY, attn_mode=attn_mode, window_size=3)
    inputs = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        expected = model(inputs)
        with record_attention(model, [(3, 0), (4, 1)]):
            recorded = model(inputs)
        assert not any(block._forward_pre_hooks or block.attn._forward_pre_hooks or block.norm1._forward_hooks
                       for block in [*model.blocks3, *model.blocks4])
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


def test_bad_queries_are_refused():
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
    windowed = _tiny(TINY, attn_mode='window', window_size=3)
    with record_attention(windowed, [(3, 0)]) as records, torch.no_grad():
        windowed(torch.randn(1, 3, *WINDOW_INPUT))
    # The padding is no token of the map: a query there lies outside it.
    with pytest.raises(ValueError, match=r'query \(6, 0\) lies outside the \(4, 6\) token grid'):
        records[(3, 0)].query_map((6, 0))


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


@pytest.mark.slow
def test_visualize_attention_draws_a_window_block_of_a_hybrid_config(tmp_path):
    tool = load_script(ROOT / 'tools/analysis_tools/visualize_attention.py')
    y, x = np.mgrid[:96, :128]
    picture = np.stack([x * 2, y * 2, 255 * ((x - 80)**2 + (y - 40)**2 < 400)], axis=-1).astype(np.uint8)
    mmcv.imwrite(picture, str(tmp_path / 'disc.png'))
    # 256x256 gives a 16x16 stage-3 grid: four 14x14 windows, three of them padded.
    written = tool.main([
        str(ROOT / 'configs/mmdet/mask-rcnn_uniformer-s-h14_fpn_1x_coco.py'),
        str(tmp_path / 'disc.png'), '--out-dir', str(tmp_path), '--stage', '3', '--block', '0', '--query', '200,40',
        '--shape', '256', '256'
    ])
    assert [path.name for path in written] == ['disc_stage3_block0.png']
    drawn = mmcv.imread(str(written[0]))
    assert drawn.std() > 20 and len(np.unique(drawn.reshape(-1, 3), axis=0)) > 200
