"""What the stage-3/4 self-attention of a UniFormer backbone attends to.

Inference attends through ``scaled_dot_product_attention``, which never materialises the attention weights.
:func:`record_attention` hooks the chosen blocks, keeps the tokens each block's attention module receives and
recomputes their probabilities with the attention module's own projections and math
(``MultiheadSelfAttention.attention_probabilities``): the weights the forward applied, to float rounding. The
forward itself is untouched. For the light models' token-pruning blocks it also records which tokens attended
(``TokenPruningBlock.rank_tokens``, the ranking the block itself uses) and the scores that ranked them.

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

from .models.backbones.uniformer import AttentionBlock, TokenPruningBlock, UniFormerBase

# Positions in a recorded sequence that are not grid tokens: the light models' class token and the token that
# stands for the pruned ones.
CLASS_TOKEN = -1
MERGED_TOKEN = -2
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
            block attended (rows: queries, columns: keys; each row sums to 1).
        positions (torch.Tensor): (B, S) grid index (flattened) of each token of that sequence;
            :data:`CLASS_TOKEN` and :data:`MERGED_TOKEN` mark the light models' class token and merged token.
        scores (torch.Tensor, optional): Light models: the (B, N) running scores that ranked the tokens before
            this block (None for the first block, which attends with all tokens).
    """

    stage: int
    block: int
    grid: Tuple[int, ...]
    probabilities: torch.Tensor
    positions: torch.Tensor
    scores: Optional[torch.Tensor] = None

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
        """(B, S, S) probabilities of one head, or their mean over heads with 'mean'."""
        num_heads = self.probabilities.shape[1]
        if head == 'mean':
            return self.probabilities.mean(dim=1)
        if not isinstance(head, int) or not -num_heads <= head < num_heads:
            raise ValueError(f"head must be 'mean' or an index in [0, {num_heads - 1}], got {head!r}")
        return self.probabilities[:, head]

    def _on_grid(self, values: torch.Tensor) -> torch.Tensor:
        """Puts (B, S) values of the sequence's tokens on the grid, (B, H', W'[...]); grid tokens that did not
        attend (pruned) are NaN."""
        grid = torch.full((values.shape[0], self.num_tokens), float('nan'))
        for batch, positions in enumerate(self.positions):
            on_grid = positions >= 0
            grid[batch, positions[on_grid]] = values[batch, on_grid]
        return grid.reshape(-1, *self.grid)

    def query_index(self, query: Union[str, Sequence[int]]) -> int:
        """The sequence index of a query: 'cls' (the light models' class token), 'centre' (the grid's centre
        token) or grid coordinates (x, y) / (t, x, y) in tokens. The same for every batch element is required
        for grid queries, so it is looked up in the first."""
        positions = self.positions[0]
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
        """(B, H', W'[...]) attention of one query (see :meth:`query_index`) over the grid; NaN where pruned."""
        return self._on_grid(self._heads(head)[:, self.query_index(query)])

    def received_map(self, head: Union[str, int] = 'mean') -> torch.Tensor:
        """(B, H', W'[...]) attention each grid token receives, averaged over all queries; NaN where pruned."""
        return self._on_grid(self._heads(head).mean(dim=1))


def attention_block(backbone: nn.Module, stage: int, block: int) -> AttentionBlock:
    """The block ``block`` (an index, negative from the end) of stage ``stage`` (3 or 4) of a UniFormer backbone
    (or of a model whose ``backbone`` is one); a clear error where that block has no global self-attention."""
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
    chosen = blocks[block]
    if chosen.window_size is not None:
        raise ValueError(f'block {block} of stage {stage} attends inside {chosen.window_size}x{chosen.window_size} '
                         'windows, which this tool does not draw; choose a global block (stage 4, or in the hybrid '
                         'configs every fourth block of stage 3)')
    return chosen


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

        handles.append(block.register_forward_pre_hook(keep_block_inputs))
        # The attention's input is the output of norm1 (the light blocks call attn.attend, not its forward).
        handles.append(block.norm1.register_forward_hook(recompute))
    try:
        yield records
    finally:
        for handle in handles:
            handle.remove()


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
