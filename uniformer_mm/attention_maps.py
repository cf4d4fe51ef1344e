"""What the stage-3/4 self-attention of a UniFormer backbone attends to.

Inference attends through ``scaled_dot_product_attention``, which never materialises the attention weights.
:func:`record_attention` hooks the chosen blocks, keeps the tokens each block's attention module receives and
recomputes their probabilities with the attention module's own projections and math
(``MultiheadSelfAttention.attention_probabilities``): the weights the forward applied, to float rounding. The
forward itself is untouched. For the light models' token-pruning blocks it also records which tokens attended
(``TokenPruningBlock.rank_tokens``, the ranking the block itself uses) and the scores that ranked them. For the
window blocks of the dense ``-w``/``-h`` configs it records the probabilities inside each window, as the block
split its zero-padded map, and where each window token lies on the grid.

Example::

    with record_attention(model.backbone, [(4, -1)]) as records:
        model.backbone(inputs)
    heatmap = records[(4, -1)].query_map('centre')   # (B, H', W'): where the centre token looks
"""
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Dict, Iterator, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn

from .models.backbones.uniformer import AttentionBlock, TokenPruningBlock, UniFormerBase, partition_windows

# Positions in a recorded sequence that are not grid tokens: the light models' class token, the token that
# stands for the pruned ones, and the zero padding a window block appends to fill its last windows.
CLASS_TOKEN = -1
MERGED_TOKEN = -2
PADDING_TOKEN = -3
# The stages with self-attention, numbered from 1 as in the paper and the parameter names (``blocks3``).
ATTENTION_STAGES = (3, 4)


@dataclass
class BlockAttention:
    """The attention of one block in the last forward.

    Attributes:
        stage (int): The stage, 3 or 4.
        block (int): The block's index in the stage, as asked for (may be negative).
        grid (tuple): The token grid, (H', W') for images or (T', H', W') for videos.
        probabilities (torch.Tensor): (B, heads, S, S) float32 attention probabilities over the sequence the
            block attended (rows: queries, columns: keys; each row sums to 1). Window blocks: (B, heads,
            windows, w*w, w*w), the probabilities inside each window (windows and their tokens in raster order
            over the padded grid; each row sums to 1 over its window, padding included).
        positions (torch.Tensor): (B, S) grid index (flattened) of each token of that sequence;
            :data:`CLASS_TOKEN` and :data:`MERGED_TOKEN` mark the light models' class token and merged token.
            Window blocks: (B, windows, w*w), :data:`PADDING_TOKEN` where the block padded the grid.
        scores (torch.Tensor, optional): Light models: the (B, N) running scores that ranked the tokens before
            this block (None for the first block, which attends with all tokens).
        window_size (int, optional): The side w of the windows a window block attends inside; None for global
            blocks.
    """

    stage: int
    block: int
    grid: Tuple[int, ...]
    probabilities: torch.Tensor
    positions: torch.Tensor
    scores: Optional[torch.Tensor] = None
    window_size: Optional[int] = None

    @property
    def num_tokens(self) -> int:
        """Tokens in the grid."""
        return int(torch.tensor(self.grid).prod())

    @property
    def kept(self) -> torch.Tensor:
        """(B, H', W'[...]) bool: the grid tokens that attended (all of them except in pruning blocks)."""
        kept = torch.zeros(self.positions.shape[0], self.num_tokens, dtype=torch.bool)
        for batch, positions in enumerate(self.positions):
            kept[batch, positions[positions >= 0]] = True
        return kept.reshape(-1, *self.grid)

    def _heads(self, head: Union[str, int]) -> torch.Tensor:
        """(B, S, S) probabilities (window blocks: (B, windows, w*w, w*w)) of one head, or their mean over heads
        with 'mean'."""
        num_heads = self.probabilities.shape[1]
        if head == 'mean':
            return self.probabilities.mean(dim=1)
        if not isinstance(head, int) or not -num_heads <= head < num_heads:
            raise ValueError(f"head must be 'mean' or an index in [0, {num_heads - 1}], got {head!r}")
        return self.probabilities[:, head]

    def _on_grid(self, values: torch.Tensor, positions: torch.Tensor, elsewhere: float = float('nan')) -> torch.Tensor:
        """Puts (B, S) values of the tokens at (B, S) ``positions`` on the grid, (B, H', W'[...]); grid tokens
        not among them get ``elsewhere`` (NaN: pruned, they did not attend)."""
        grid = torch.full((values.shape[0], self.num_tokens), elsewhere)
        for batch, batch_positions in enumerate(positions):
            on_grid = batch_positions >= 0
            grid[batch, batch_positions[on_grid]] = values[batch, on_grid]
        return grid.reshape(-1, *self.grid)

    def query_index(self, query: Union[str, Sequence[int]]) -> int:
        """The sequence index of a query: 'cls' (the light models' class token), 'centre' (the grid's centre
        token) or grid coordinates (x, y) / (t, x, y) in tokens. The same for every batch element is required
        for grid queries, so it is looked up in the first. Window blocks: the index in the windows' tokens
        flattened, ``window * w * w + token in window``."""
        positions = self.positions[0].flatten()
        if query == 'cls':
            matches = (positions == CLASS_TOKEN).nonzero()
            if not len(matches):
                raise ValueError('this block has no class token (only the light archs xxs/xs have one)')
            return int(matches[0])
        if query == 'centre':
            coords = [size // 2 for size in self.grid]
        else:
            coords = list(query)
            if len(coords) != len(self.grid):
                raise ValueError(f'a query on a {len(self.grid)}D token grid needs {len(self.grid)} coordinates, '
                                 f'got {query!r}')
            coords = coords[:-2] + coords[-2:][::-1]  # (x, y) -> row, column
        if any(not 0 <= c < size for c, size in zip(coords, self.grid)):
            raise ValueError(f'query {query!r} lies outside the {self.grid} token grid')
        index = 0
        for coord, size in zip(coords, self.grid):
            index = index * size + coord
        matches = (positions == index).nonzero()
        if not len(matches):
            raise ValueError(f'query {query!r} was pruned in this block: it did not attend (query the class token '
                             "with 'cls', or choose a kept token)")
        return int(matches[0])

    def query_map(self, query: Union[str, Sequence[int]] = 'centre', head: Union[str, int] = 'mean') -> torch.Tensor:
        """(B, H', W'[...]) attention of one query (see :meth:`query_index`) over the grid; NaN where pruned.
        Window blocks: zero outside the query's window; the padding it attended is not on the grid, so the map
        sums to 1 less what the padding received."""
        index, probabilities = self.query_index(query), self._heads(head)
        if self.window_size is None:
            return self._on_grid(probabilities[:, index], self.positions)
        window, token = divmod(index, self.window_size**2)
        return self._on_grid(probabilities[:, window, token], self.positions[:, window], elsewhere=0.)

    def received_map(self, head: Union[str, int] = 'mean') -> torch.Tensor:
        """(B, H', W'[...]) attention each grid token receives, averaged over all queries; NaN where pruned.
        Window blocks: averaged over the grid queries of its own window (the only ones that see it; padding
        queries are cropped from the block's output, so they do not count)."""
        probabilities = self._heads(head)
        if self.window_size is None:
            return self._on_grid(probabilities.mean(dim=1), self.positions)
        grid_queries = (self.positions >= 0).unsqueeze(-1).float()  # (B, windows, w*w, 1)
        received = (probabilities * grid_queries).sum(dim=-2) / grid_queries.sum(dim=-2)
        return self._on_grid(received.flatten(1), self.positions.flatten(1))


def attention_block(backbone: nn.Module, stage: int, block: int) -> AttentionBlock:
    """The block ``block`` (an index, negative from the end) of stage ``stage`` (3 or 4) of a UniFormer backbone
    (or of a model whose ``backbone`` is one), global or window attention; a clear error where there is no such
    block or it has no self-attention."""
    backbone = getattr(backbone, 'backbone', backbone)
    if not isinstance(backbone, UniFormerBase):
        raise TypeError(f'expected a UniFormer backbone or a model with one, got {type(backbone).__name__}')
    if stage not in ATTENTION_STAGES:
        raise ValueError(f'stage {stage} has no self-attention: stages 1 and 2 are local (convolutional) blocks; '
                         f'choose one of {ATTENTION_STAGES}')
    blocks = getattr(backbone, f'blocks{stage}')
    if not -len(blocks) <= block < len(blocks):
        raise ValueError(f'stage {stage} has {len(blocks)} blocks; block must be in [{-len(blocks)}, '
                         f'{len(blocks) - 1}], got {block}')
    return blocks[block]


@contextmanager
def record_attention(backbone: nn.Module,
                     blocks: Sequence[Tuple[int, int]]) -> Iterator[Dict[Tuple[int, int], BlockAttention]]:
    """Records the attention of the chosen blocks in each forward run inside the ``with``.

    Args:
        backbone (nn.Module): A UniFormer backbone, or a model whose ``backbone`` is one.
        blocks (Sequence[tuple]): (stage, block) pairs; see :func:`attention_block`.

    Yields:
        dict: ``{(stage, block): BlockAttention}``, filled by each forward (the last one wins).
    """
    records: Dict[Tuple[int, int], BlockAttention] = {}
    handles = []
    for stage, index in blocks:
        block = attention_block(backbone, stage, index)
        seen = {}

        def keep_block_inputs(module, args, seen=seen):
            seen['grid'] = tuple(args[0].shape[2:])
            seen['scores'] = args[2] if isinstance(module, TokenPruningBlock) else None

        def recompute(module, args, tokens, block=block, key=(stage, index), seen=seen):
            with torch.no_grad():
                probabilities = block.attn.attention_probabilities(tokens).cpu()
            batch, num_tokens = tokens.shape[:2]
            scores = seen['scores']
            grid_tokens = torch.arange(num_tokens if scores is None else scores.shape[1]).expand(batch, -1)
            if not isinstance(block, TokenPruningBlock):
                positions = grid_tokens
            else:
                class_token = torch.full((batch, 1), CLASS_TOKEN)
                if scores is None:  # the first block attends with all tokens after the class token
                    positions = torch.cat([class_token, grid_tokens[:, :num_tokens - 1]], dim=1)
                else:
                    order, keep = block.rank_tokens(scores)
                    merged = torch.full((batch, 1), MERGED_TOKEN)
                    positions = torch.cat([class_token, order[:, :keep].cpu(), merged], dim=1)
            records[key] = BlockAttention(stage, index, seen['grid'], probabilities, positions,
                                          None if scores is None else scores.detach().float().cpu())

        def recompute_in_windows(module, args, block=block, key=(stage, index), seen=seen):
            windows = args[0]  # (B * windows, w * w, C), as the block split its padded map
            with torch.no_grad():
                probabilities = module.attention_probabilities(windows).cpu()
            positions = _window_positions(seen['grid'], block.window_size)
            # Heads second, as for global blocks: (B, heads, windows, w * w, w * w).
            probabilities = probabilities.unflatten(0, (-1, len(positions))).transpose(1, 2)
            records[key] = BlockAttention(stage, index, seen['grid'], probabilities,
                                          positions.expand(len(probabilities), -1, -1),
                                          window_size=block.window_size)

        handles.append(block.register_forward_pre_hook(keep_block_inputs))
        if block.window_size is None:
            # The attention's input is the output of norm1 (the light blocks call attn.attend, not its forward).
            handles.append(block.norm1.register_forward_hook(recompute))
        else:
            # The windows are what the attention module's forward receives.
            handles.append(block.attn.register_forward_pre_hook(recompute_in_windows))
    try:
        yield records
    finally:
        for handle in handles:
            handle.remove()


def _window_positions(grid: Tuple[int, int], window_size: int) -> torch.Tensor:
    """The (windows, w * w) grid index (flattened) of each token of each window, in the order the window blocks
    split their map (:func:`partition_windows`); :data:`PADDING_TOKEN` where padded.

    Args:
        grid (tuple): The (H', W') token grid.
        window_size (int): The side w of the windows.
    """
    height, width = grid
    # Indices from 1, so that the zero padding stands out.
    indices = torch.arange(1, height * width + 1).view(1, height, width, 1)
    positions = partition_windows(indices, window_size)[0][..., 0] - 1
    return positions.masked_fill(positions < 0, PADDING_TOKEN)


def grad_cam_target_layer(model: nn.Module) -> str:
    """The layer Grad-CAM should read in a model with a UniFormer backbone, as a dotted module name: the
    normalised map of the last stage the model uses, ``backbone.norm`` (the classifiers' BatchNorm, the video
    backbone's) or ``backbone.norm{k}`` (dense backbones, k the last of ``out_indices`` plus 1). Its output is a
    (B, C, H', W') or (B, C, T', H', W') map, as pytorch-grad-cam and mmaction2's ``GradCAM`` expect."""
    backbone = getattr(model, 'backbone', None)
    if not isinstance(backbone, UniFormerBase):
        raise TypeError(f'expected a model whose backbone is a UniFormer, got {type(model).__name__}')
    if getattr(backbone, 'out_norm', 'batch') == 'batch':
        return 'backbone.norm'
    return f'backbone.norm{max(backbone.out_indices) + 1}'
