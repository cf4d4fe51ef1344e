"""UniFormer backbones (arXiv 2201.09450) for OpenMMLab 2.0.

One family in one file. The blocks are written once for any number of spatial dimensions (``ndim`` 2 for
images, 3 for videos); a stage-3 attention variant (global, window, hybrid) is a per-block window size,
not a separate class. Parameter names follow the official release (``patch_embed{i}``, ``blocks{i}``,
``norm{i}``), so its checkpoints load without renaming.
"""
import logging
from contextlib import nullcontext
from fractions import Fraction
from functools import partial
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.utils.checkpoint as cp
from mmcv.cnn.bricks import DropPath
from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_
from mmengine.registry import MODELS
from torch.nn.modules.batchnorm import _BatchNorm

from ...checkpoint_sources import resolve_checkpoint
from .checkpoint_loading import (check_released_head_dim, inflate_2d_to_3d, load_state_dict_strictly,
                                 read_checkpoint_state_dict)

_CONV = {2: nn.Conv2d, 3: nn.Conv3d}
_BATCH_NORM = {2: nn.BatchNorm2d, 3: nn.BatchNorm3d}
# The official release normalises tokens with eps 1e-6, but its patch embeddings use nn.LayerNorm's default.
_TOKEN_NORM_EPS = 1e-6
# What the attention is computed in: see MultiheadSelfAttention.
ATTN_PRECISIONS = ('auto', 'float32', 'input')
_PATCH_NORM_EPS = 1e-5
# Top-level names of the classifier parts of the released ImageNet / Kinetics models: the linear head, the
# token-labeling dense head, and the light models' class-token head with its norm.
_CLASSIFIER_KEYS = ('head', 'aux_head', 'head_cls', 'norm_cls')


class Mlp(nn.Module):
    """Feed-forward network of the blocks: two pointwise layers with GELU between them, like timm's ``Mlp``.

    Args:
        dim (int): Input and output width.
        hidden_dim (int): Hidden width.
        use_conv (bool): 1x1 convolutions over a (B, C, ...) map (the local blocks) instead of linear layers over
            (B, N, C) tokens (the attention blocks). Defaults to False.
        ndim (int): Spatial dimensions of the map with ``use_conv``, 2 or 3. Defaults to 2.
    """

    def __init__(self, dim: int, hidden_dim: int, use_conv: bool = False, ndim: int = 2) -> None:
        super().__init__()
        layer = partial(_CONV[ndim], kernel_size=1) if use_conv else nn.Linear
        self.fc1 = layer(dim, hidden_dim)
        self.act = nn.GELU()
        self.fc2 = layer(hidden_dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class ChannelsFirstLayerNorm(nn.LayerNorm):
    """LayerNorm over the channels of a (B, C, ...) map of any number of spatial dimensions (mmpretrain's
    ``LayerNorm2d``, for images and videos alike); its parameters are ``nn.LayerNorm``'s ``weight`` and ``bias``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Explicit permutations: movedim(1, -1) exports to ONNX as a Transpose with a negative axis, which ONNX
        # Runtime refuses.
        channels_last = (0, *range(2, x.dim()), 1)
        channels_first = (0, x.dim() - 1, *range(1, x.dim() - 1))
        return super().forward(x.permute(channels_last)).permute(channels_first).contiguous()


class MultiheadSelfAttention(nn.Module):
    """Multi-head self-attention with a fused qkv projection, through ``scaled_dot_product_attention``.

    Args:
        dim (int): Token width.
        num_heads (int): Number of heads; ``dim`` must be divisible by it.
        precision (str): The dtype the attention is computed in (see :data:`ATTN_PRECISIONS`): 'auto' (float32
            when the tokens are float16, including under float16 autocast, else their own dtype), 'float32'
            (always) or 'input' (the tokens' dtype, as the release did). Defaults to 'auto'.

    The class token's attention row (``with_first_row``), by which the light models rank tokens, is computed in
    float32 whatever ``precision`` says: half-precision rounding would reorder nearly tied tokens.
    """

    def __init__(self, dim: int, num_heads: int, precision: str = 'auto') -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f'width {dim} is not divisible by {num_heads} heads')
        if precision not in ATTN_PRECISIONS:
            raise ValueError(f'unknown attention precision {precision!r}; expected one of {ATTN_PRECISIONS}')
        self.num_heads = num_heads
        self.precision = precision
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.attend(x)[0]

    def split_heads(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The queries, keys and values of (B, N, C) tokens, each (B, heads, N, head_dim)."""
        batch, num_tokens, dim = x.shape
        qkv = self.qkv(x).reshape(batch, num_tokens, 3, self.num_heads, dim // self.num_heads)
        return qkv.permute(2, 0, 3, 1, 4).unbind(0)

    @staticmethod
    def probabilities(q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        """``softmax(q k^T / sqrt(head_dim))`` in float32, (B, heads, Nq, Nk): the weights that
        ``scaled_dot_product_attention`` applies without materialising them."""
        with torch.autocast(q.device.type, enabled=False):
            # The default scale, head_dim ** -0.5, is the official one.
            logits = q.float() @ k.float().transpose(-2, -1) * q.shape[-1]**-0.5
            return logits.softmax(dim=-1)

    def attention_probabilities(self, x: torch.Tensor) -> torch.Tensor:
        """The attention probabilities that :meth:`attend` applies to (B, N, C) tokens, (B, heads, N, N) in
        float32: for analysis (``uniformer_mm.attention_maps``); inference never materialises them."""
        q, k, _ = self.split_heads(x)
        return self.probabilities(q, k)

    def attend(self, x: torch.Tensor, with_first_row: bool = False) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """Returns the attention output and, with ``with_first_row``, the attention probabilities of the first
        token's query over all tokens, averaged over heads, (B, N): how much the class token looks at each."""
        batch, num_tokens, dim = x.shape
        q, k, v = self.split_heads(x)
        in_float32 = self.precision == 'float32' or (self.precision == 'auto' and q.dtype == torch.float16)
        with torch.autocast(x.device.type, enabled=False) if in_float32 else nullcontext():
            out = F.scaled_dot_product_attention(*((t.float() for t in (q, k, v)) if in_float32 else (q, k, v)))
        first_row = self.probabilities(q[:, :, :1], k)[:, :, 0].mean(dim=1) if with_first_row else None
        out = out.to(x.dtype).transpose(1, 2).reshape(batch, num_tokens, dim)
        return self.proj(out), first_row


def _layer_scales(value: Optional[float], shape: Tuple[int, ...]) -> Tuple[Optional[nn.Parameter], ...]:
    """The per-channel residual scales ``gamma_1``/``gamma_2`` (None, None when ``value`` is None)."""
    if value is None:
        return None, None
    return tuple(nn.Parameter(torch.full(shape, float(value))) for _ in range(2))


def _layer_scaled(branch: torch.Tensor, gamma: Optional[nn.Parameter]) -> torch.Tensor:
    """A residual branch times its layer scale, if the block has one."""
    return branch if gamma is None else gamma * branch


@torch.no_grad()
def _fold_batch_norm_into_next_conv(norm: _BatchNorm, conv: nn.Module) -> None:
    """Folds an eval-mode BatchNorm into the 1x1 convolution that consumes its output:
    ``W (s x + t) + b = (W s) x + (W t + b)`` with ``s = gamma / sqrt(var + eps)``, ``t = beta - mean s``."""
    scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
    shift = norm.bias - norm.running_mean * scale
    conv.bias.add_(conv.weight.flatten(1) @ shift)
    conv.weight.mul_(scale.reshape(1, -1, *([1] * (conv.weight.dim() - 2))))


@torch.no_grad()
def _fold_batch_norm_into_previous_conv(conv: nn.Module, norm: _BatchNorm) -> None:
    """Folds an eval-mode BatchNorm into the convolution whose output it normalises."""
    scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
    conv.weight.mul_(scale.reshape(-1, *([1] * (conv.weight.dim() - 1))))
    conv.bias.sub_(norm.running_mean).mul_(scale).add_(norm.bias)


class _ConditionalPosition(nn.Module):
    """The blocks' convolutional position embedding ``x + pos_embed(x)`` (a depthwise 3x3 convolution), whose
    identity branch ``switch_to_deploy`` folds into the kernel's centre."""

    position_folded = False

    def _embed_position(self, x: torch.Tensor) -> torch.Tensor:
        return self.pos_embed(x) if self.position_folded else x + self.pos_embed(x)

    @torch.no_grad()
    def _fold_position_identity(self) -> None:
        weight = self.pos_embed.weight
        centre = (slice(None), 0) + tuple(size // 2 for size in weight.shape[2:])
        weight[centre] += 1
        self.position_folded = True

    def fold_for_inference(self) -> None:
        """Folds what inference lets fold; irreversible. Called by the backbone's ``switch_to_deploy``."""
        self._fold_position_identity()


class LocalBlock(_ConditionalPosition):
    """Block with local relation aggregation ("CBlock"): a 5x5 depthwise convolution between 1x1 ones.

    Args:
        dim (int): Channels.
        mlp_ratio (float): Hidden width of the FFN relative to ``dim``.
        drop_path (float): Stochastic depth rate.
        layer_scale (float, optional): Initial value of the per-channel residual scales ``gamma_1``/``gamma_2``
            of shape (1, C, 1, 1) (the token-labeling ``large_ls``); None disables them.
        ndim (int): Spatial dimensions, 2 or 3.
    """

    def __init__(self,
                 dim: int,
                 mlp_ratio: float = 4.,
                 drop_path: float = 0.,
                 layer_scale: Optional[float] = None,
                 ndim: int = 2) -> None:
        super().__init__()
        conv, batch_norm = _CONV[ndim], _BATCH_NORM[ndim]
        self.pos_embed = conv(dim, dim, 3, padding=1, groups=dim)
        self.norm1 = batch_norm(dim)
        self.conv1 = conv(dim, dim, 1)
        self.attn = conv(dim, dim, 5, padding=2, groups=dim)
        self.conv2 = conv(dim, dim, 1)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.norm2 = batch_norm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), use_conv=True, ndim=ndim)
        self.gamma_1, self.gamma_2 = _layer_scales(layer_scale, (1, dim) + (1, ) * ndim)

    def fold_for_inference(self) -> None:
        """Also folds both BatchNorms into the 1x1 convolutions after them."""
        super().fold_for_inference()
        _fold_batch_norm_into_next_conv(self.norm1, self.conv1)
        _fold_batch_norm_into_next_conv(self.norm2, self.mlp.fc1)
        self.norm1, self.norm2 = nn.Identity(), nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self._embed_position(x)
        aggregated = self.conv2(self.attn(self.conv1(self.norm1(x))))
        x = x + self.drop_path(_layer_scaled(aggregated, self.gamma_1))
        return x + self.drop_path(_layer_scaled(self.mlp(self.norm2(x)), self.gamma_2))


def _ceil_div(length, divisor: int):
    """``ceil(length / divisor)``. Padding to ``divisor * _ceil_div(length, divisor)`` rather than by
    ``-length % divisor`` gives the same size, but one that torch.export's shape solver sees is a multiple of
    ``divisor``, so the sizes after it (strided convolutions, token counts, kept tokens) stay simple products
    instead of nested floor divisions, and the dynamic export takes a third less time (docs/deployment.md)."""
    return (length + divisor - 1) // divisor


def partition_windows(x: torch.Tensor, size: int) -> Tuple[torch.Tensor, int, int]:
    """Splits a (B, H, W, C) map into windows: zero-padded on the right and bottom to a multiple of ``size``,
    windows in raster order, tokens in raster order inside each.

    Returns:
        tuple: The (B * rows * cols, size * size, C) windows, and the rows and columns of windows.
    """
    batch, height, width, dim = x.shape
    # Padded unconditionally (a no-op pad costs one copy) so that a traced or exported graph computes the
    # padding from its input's size instead of baking in the example's.
    rows, cols = _ceil_div(height, size), _ceil_div(width, size)
    x = F.pad(x, (0, 0, 0, cols * size - width, 0, rows * size - height))
    windows = x.view(batch, rows, size, cols, size, dim).transpose(2, 3).reshape(-1, size * size, dim)
    return windows, rows, cols


def _take_rows(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``x[b, index[b, i]]`` for a (B, N, ...) tensor and (B, M) indices, (B, M, ...): ``gather`` along dim 1
    without broadcasting the index over the trailing dimensions. It exports as one Gather of whole rows, which
    ONNX Runtime and OpenVINO copy as blocks; the broadcast index of ``gather`` exports as an element-wise gather
    that also materialises the index for every channel."""
    batch, length = x.shape[:2]
    rows = index + torch.arange(batch, device=index.device).unsqueeze(1) * length
    return x.flatten(0, 1).index_select(0, rows.flatten()).view(batch, index.shape[1], *x.shape[2:])


class AttentionBlock(_ConditionalPosition):
    """Block with global relation aggregation ("SABlock"): self-attention over all tokens, or inside windows.

    Window attention (2D only) follows the official dense-prediction release exactly: the normalised tokens
    are zero-padded on the right and bottom to a multiple of ``window_size`` and attended inside each window
    with no mask, so padded tokens take part as keys and values (through the qkv bias), then cropped back.

    Args:
        dim (int): Channels.
        num_heads (int): Attention heads.
        mlp_ratio (float): Hidden width of the FFN relative to ``dim``.
        drop_path (float): Stochastic depth rate.
        layer_scale (float, optional): Initial value of the per-channel residual scales ``gamma_1``/``gamma_2``;
            None disables them.
        ndim (int): Spatial dimensions, 2 or 3.
        window_size (int, optional): Attend inside non-overlapping windows of this size; None attends globally.
        attn_precision (str): The dtype the attention is computed in: 'auto', 'float32' or 'input' (see
            :class:`MultiheadSelfAttention`).
    """

    def __init__(self,
                 dim: int,
                 num_heads: int,
                 mlp_ratio: float = 4.,
                 drop_path: float = 0.,
                 layer_scale: Optional[float] = None,
                 ndim: int = 2,
                 window_size: Optional[int] = None,
                 attn_precision: str = 'auto') -> None:
        super().__init__()
        if window_size is not None and ndim != 2:
            raise ValueError('window attention is defined for 2D inputs only')
        self.window_size = window_size
        self.pos_embed = _CONV[ndim](dim, dim, 3, padding=1, groups=dim)
        self.norm1 = nn.LayerNorm(dim, eps=_TOKEN_NORM_EPS)
        self.attn = MultiheadSelfAttention(dim, num_heads, precision=attn_precision)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.norm2 = nn.LayerNorm(dim, eps=_TOKEN_NORM_EPS)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))
        self.gamma_1, self.gamma_2 = _layer_scales(layer_scale, (dim, ))

    def _window_attention(self, tokens: torch.Tensor, height: int, width: int) -> torch.Tensor:
        size = self.window_size
        batch, _, dim = tokens.shape
        windows, rows, cols = partition_windows(tokens.reshape(batch, height, width, dim), size)
        x = self.attn(windows).view(batch, rows, cols, size, size, dim).transpose(2, 3)
        x = x.reshape(batch, rows * size, cols * size, dim)[:, :height, :width]
        return x.reshape(batch, height * width, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self._embed_position(x)
        shape = x.shape
        tokens = x.flatten(2).transpose(1, 2)
        normed = self.norm1(tokens)
        if self.window_size is None:
            attended = self.attn(normed)
        else:
            attended = self._window_attention(normed, shape[-2], shape[-1])
        tokens = tokens + self.drop_path(_layer_scaled(attended, self.gamma_1))
        tokens = tokens + self.drop_path(_layer_scaled(self.mlp(self.norm2(tokens)), self.gamma_2))
        return tokens.transpose(1, 2).reshape(shape)


class TokenPruningBlock(AttentionBlock):
    """Global attention block of the light UniFormer: attends over the class token, the tokens that rank highest
    and one token standing for the rest, and moves the rest by that token's update.

    The ranking is a running score per token: the class token's attention to it, averaged over heads, blended
    into the previous score (``new = (1 - trade_off) * old + trade_off * attention``). With ``keep_ratio``
    below 1, the ``int(N * keep_ratio)`` best-ranked tokens are kept; the others are merged into their
    score-weighted mean, which attends with them, and each receives that mean's attention and FFN updates
    (not dropped by stochastic depth); their scores are left as they were. The output is the whole map, in its
    original order. The state (class token, scores) is passed in and returned, never kept on the module, so
    models and threads share nothing and the forward traces. The class token's attention row, and so the
    ranking, is computed in float32 whatever the model's dtype, as it would otherwise depend on half-precision
    rounding.

    Args:
        dim (int): Channels.
        num_heads (int): Attention heads.
        mlp_ratio (float): Hidden width of the FFN relative to ``dim``.
        drop_path (float): Stochastic depth rate.
        layer_scale (float, optional): Initial value of the residual scales ``gamma_1``/``gamma_2``.
        ndim (int): Spatial dimensions, 2 or 3.
        keep_ratio (float): Share of the tokens that attend; 1 attends with all of them.
        trade_off (float): Weight of this block's attention in the running score.
        pool_scores (bool): Pool the scores 2x2 (spatially) for the next stage, keeping their sum: the last
            block of stage 3.
        attn_precision (str): The dtype the attention is computed in (see :class:`MultiheadSelfAttention`).
    """

    def __init__(self,
                 dim: int,
                 num_heads: int,
                 mlp_ratio: float = 3.,
                 drop_path: float = 0.,
                 layer_scale: Optional[float] = None,
                 ndim: int = 2,
                 keep_ratio: float = 0.5,
                 trade_off: float = 0.5,
                 pool_scores: bool = False,
                 attn_precision: str = 'auto') -> None:
        if not 0 < keep_ratio <= 1:
            raise ValueError(f'keep_ratio must be in (0, 1], got {keep_ratio}')
        super().__init__(dim, num_heads, mlp_ratio=mlp_ratio, drop_path=drop_path, layer_scale=layer_scale,
                         ndim=ndim, attn_precision=attn_precision)
        self.keep_ratio = keep_ratio
        # int(N * keep_ratio) in integer arithmetic, which stays symbolic when the token count is; the ratio as
        # written (0.7 is 7/10, not its binary neighbour) so that N = 10 keeps 7 tokens as the float product does.
        self._keep_fraction = Fraction(str(keep_ratio))
        self.trade_off = trade_off
        self.pool_scores = pool_scores
        self.ndim = ndim

    def _attend(self, seq: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The block's two residual branches on a token sequence; also returns their last token's updates
        (before stochastic depth) and the class token's attention row."""
        attended, first_row = self.attn.attend(self.norm1(seq), with_first_row=True)
        attended = _layer_scaled(attended, self.gamma_1)
        seq = seq + self.drop_path(attended)
        mixed = _layer_scaled(self.mlp(self.norm2(seq)), self.gamma_2)
        seq = seq + self.drop_path(mixed)
        return seq, attended[:, -1:] + mixed[:, -1:], first_row

    def forward(self, x: torch.Tensor, cls_token: torch.Tensor,
                scores: Optional[torch.Tensor]) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Args: the (B, C, ...) map, the (B, 1, C) class token and the (B, N) scores (None before the first
        block). Returns the three updated."""
        x = self._embed_position(x)
        shape = x.shape
        tokens = x.flatten(2).transpose(1, 2)
        num_tokens = tokens.shape[1]
        if self.keep_ratio == 1:
            seq, _, first_row = self._attend(torch.cat([cls_token, tokens], dim=1))
            blended = first_row[:, 1:]
            if scores is not None:
                blended = (1 - self.trade_off) * scores + self.trade_off * blended
            return seq[:, 1:].transpose(1, 2).reshape(shape), seq[:, :1], self._pooled(blended, shape)
        if scores is None:
            raise ValueError('a pruning block needs the scores of an earlier block (keep_ratio 1 first)')
        order, keep = self.rank_tokens(scores)
        ranked = _take_rows(tokens, order)
        ranked_scores = scores.gather(1, order)
        kept, rest = ranked[:, :keep], ranked[:, keep:]
        rest_weights = ranked_scores[:, keep:] / ranked_scores[:, keep:].sum(dim=1, keepdim=True)
        # The scores are float32 whatever the model's dtype; the mean is taken in float32 and joins the tokens
        # in their own dtype, so that a model cast to half precision runs.
        merged = (rest_weights.unsqueeze(-1) * rest).sum(dim=1, keepdim=True).to(tokens.dtype)
        seq, merged_update, first_row = self._attend(torch.cat([cls_token, kept, merged], dim=1))
        rest = rest + merged_update
        if keep + 1 == num_tokens:
            # The release blends the merged token's attention into the one left-out token's score here.
            ranked_scores = (1 - self.trade_off) * ranked_scores + self.trade_off * first_row[:, 1:]
        else:
            kept_scores = (1 - self.trade_off) * ranked_scores[:, :keep] + self.trade_off * first_row[:, 1:-1]
            ranked_scores = torch.cat([kept_scores, ranked_scores[:, keep:]], dim=1)
        ranked = torch.cat([seq[:, 1:keep + 1], rest], dim=1)
        # Back to the original order by gathering with the inverse permutation: an exact copy, as a scatter would
        # be, but runtimes gather rows several times faster than they scatter elements (docs/benchmarks.md).
        original_order = order.argsort(dim=1)
        tokens = _take_rows(ranked, original_order)
        scores = ranked_scores.gather(1, original_order)
        return tokens.transpose(1, 2).reshape(shape), seq[:, :1], self._pooled(scores, shape)

    def rank_tokens(self, scores: torch.Tensor) -> Tuple[torch.Tensor, int]:
        """The tokens' order by the (B, N) running scores, best first, and how many of them attend (the first
        ``int(N * keep_ratio)``); the rest are merged."""
        keep = scores.shape[1] * self._keep_fraction.numerator // self._keep_fraction.denominator
        return scores.argsort(dim=1, descending=True, stable=True), keep

    def _pooled(self, scores: torch.Tensor, shape: torch.Size) -> torch.Tensor:
        """With ``pool_scores``, the scores averaged over 2x2 (spatial) cells, rescaled to keep their sum."""
        if not self.pool_scores:
            return scores
        grid = scores.reshape(shape[0], 1, *shape[2:])
        kernel = (2, 2) if self.ndim == 2 else (1, 2, 2)
        pooled = (F.avg_pool2d if self.ndim == 2 else F.avg_pool3d)(grid, kernel, kernel).flatten(1)
        return pooled * (scores.sum(dim=1, keepdim=True) / pooled.sum(dim=1, keepdim=True))


class PatchEmbed(nn.Module):
    """Non-overlapping patch embedding: a strided convolution, then LayerNorm over channels.

    Args:
        in_channels (int): Input channels.
        embed_dim (int): Output channels.
        kernel_size (int | tuple): Kernel size of the projection.
        stride (int | tuple): Stride of the projection (the kernel size unless given).
        padding (int | tuple): Padding of the projection.
        ndim (int): Spatial dimensions, 2 or 3.
    """

    def __init__(self,
                 in_channels: int,
                 embed_dim: int,
                 kernel_size: Union[int, Tuple[int, ...]],
                 stride: Union[int, Tuple[int, ...], None] = None,
                 padding: Union[int, Tuple[int, ...]] = 0,
                 ndim: int = 2) -> None:
        super().__init__()
        self.proj = _CONV[ndim](in_channels, embed_dim, kernel_size, stride or kernel_size, padding)
        self.norm = ChannelsFirstLayerNorm(embed_dim, eps=_PATCH_NORM_EPS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.proj(x))


class ConvPatchEmbed(nn.Module):
    """Overlapping convolutional embedding of ``small_plus`` and the light models: 3x3 stride-2 convolutions with
    BatchNorm.

    The stem (``stem=True``, stride 4) has two convolutions with GELU between them; later stages have one. In 3D
    (the light video models) the stem's kernels are 3x3x3 and the second one also halves the frames.
    """

    def __init__(self, in_channels: int, embed_dim: int, stem: bool, ndim: int = 2) -> None:
        super().__init__()
        conv, batch_norm = _CONV[ndim], _BATCH_NORM[ndim]
        if stem:
            hidden = embed_dim // 2
            first_stride = 2 if ndim == 2 else (1, 2, 2)
            self.proj = nn.Sequential(
                conv(in_channels, hidden, 3, first_stride, 1), batch_norm(hidden), nn.GELU(),
                conv(hidden, embed_dim, 3, 2, 1), batch_norm(embed_dim))
        elif ndim == 2:
            self.proj = nn.Sequential(nn.Conv2d(in_channels, embed_dim, 3, 2, 1), nn.BatchNorm2d(embed_dim))
        else:
            raise ValueError('the overlapping embedding after the stem (conv_stem) exists in 2D only')

    def fold_for_inference(self) -> None:
        """Folds each BatchNorm into the convolution before it; irreversible. Called by the backbone's
        ``switch_to_deploy``."""
        layers = list(self.proj)
        for index, layer in enumerate(layers):
            if isinstance(layer, _BatchNorm):
                _fold_batch_norm_into_previous_conv(layers[index - 1], layer)
                layers[index] = nn.Identity()
        self.proj = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x)


class UniFormerBase(BaseModule):
    """The four UniFormer stages, shared by the image and video backbones.

    Subclasses resolve ``arch`` (:meth:`_resolve_arch`), build the patch embeddings and choose the window size
    of each block, and pass them in. Everything else, including the blocks, stochastic depth, gradient
    checkpointing, ``frozen_stages``, ``norm_eval`` and checkpoint loading, lives here once.

    Args:
        arch (dict): The resolved arch, as :meth:`_resolve_arch` returns it.
        patch_embeds (Sequence[nn.Module]): The embedding before each stage, registered as ``patch_embed1``..
            ``patch_embed4``.
        window_sizes (Sequence[Sequence[int | None]], optional): Per stage, the window size of each block (None:
            global attention, or a local block). None attends globally everywhere.
        in_channels (int): Input channels.
        mlp_ratio (float, optional): FFN hidden width relative to the block width; None takes the arch's (4
            unless it says otherwise).
        drop_path_rate (float): Stochastic depth rate, increasing linearly over all blocks.
        frozen_stages (int): Stages to freeze; see the subclasses.
        norm_eval (bool): Keep every BatchNorm in eval mode while training.
        with_cp (bool | Sequence[int]): Gradient checkpointing, all blocks or leading blocks per stage.
        attn_precision (str): The dtype the attention blocks compute attention in; see the subclasses.
        init_cfg (dict, optional): The initialisation config; ``Pretrained`` loads with :meth:`load_pretrained`.
    """

    arch_zoo: Dict[str, dict] = {
        'small': dict(depths=(3, 4, 8, 3), embed_dims=(64, 128, 320, 512), head_dim=64),
        'small_plus': dict(depths=(3, 5, 9, 3), embed_dims=(64, 128, 320, 512), head_dim=32, conv_stem=True),
        'small_plus_dim64': dict(depths=(3, 5, 9, 3), embed_dims=(64, 128, 320, 512), head_dim=64, conv_stem=True),
        'base': dict(depths=(5, 8, 20, 7), embed_dims=(64, 128, 320, 512), head_dim=64),
        'base_ls': dict(depths=(5, 8, 20, 7), embed_dims=(64, 128, 320, 512), head_dim=64, layer_scale=1e-6),
        # The token-labeling release's own layouts: its 'small' and 'base' attend with head_dim 32 (its
        # 'small_dim64' / 'base_dim64' are 'small' / 'base' above), and 'large_ls' scales local blocks too.
        'small_dim32': dict(depths=(3, 4, 8, 3), embed_dims=(64, 128, 320, 512), head_dim=32),
        'base_dim32': dict(depths=(5, 8, 20, 7), embed_dims=(64, 128, 320, 512), head_dim=32),
        'large_ls': dict(depths=(5, 10, 24, 7), embed_dims=(128, 192, 448, 640), head_dim=64, layer_scale=1e-6,
                         local_layer_scale=True),
        # The light models of the journal version: overlapping conv stem, FFN ratio 3, and token-pruning
        # attention blocks with a class token in stages 3-4.
        'xxs': dict(depths=(2, 5, 8, 2), embed_dims=(56, 112, 224, 448), head_dim=28, mlp_ratio=3, light=True),
        'xs': dict(depths=(3, 5, 9, 3), embed_dims=(64, 128, 256, 512), head_dim=32, mlp_ratio=3, light=True),
    }
    ndim = 2
    num_stages = 4
    size_divisor = 32

    def __init__(self,
                 arch: dict,
                 patch_embeds: Sequence[nn.Module],
                 window_sizes: Optional[Sequence[Sequence[Optional[int]]]] = None,
                 in_channels: int = 3,
                 mlp_ratio: Optional[float] = None,
                 drop_path_rate: float = 0.,
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 with_cp: Union[bool, Sequence[int]] = False,
                 attn_precision: str = 'auto',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if attn_precision not in ATTN_PRECISIONS:
            raise ValueError(f'unknown attn_precision {attn_precision!r}; expected one of {ATTN_PRECISIONS}')
        self._warn_if_pretrained_missing()
        self.arch = arch
        depths, embed_dims, head_dim = arch['depths'], arch['embed_dims'], arch['head_dim']
        layer_scale = arch.get('layer_scale')
        local_layer_scale = layer_scale if arch.get('local_layer_scale', False) else None
        if mlp_ratio is None:
            mlp_ratio = arch.get('mlp_ratio', 4.)
        self.light = arch.get('light', False)
        self.in_channels = in_channels
        self.embed_dims = embed_dims
        self.depths = depths
        if not -1 <= frozen_stages <= self.num_stages:
            raise ValueError(f'frozen_stages must be in [-1, {self.num_stages}], got {frozen_stages}')
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.checkpointed_blocks = self._resolve_with_cp(with_cp, depths)
        self.deploy = False

        drop_path_rates = torch.linspace(0, drop_path_rate, sum(depths)).tolist()
        block_index = 0
        for stage, (depth, dim) in enumerate(zip(depths, embed_dims)):
            self.add_module(f'patch_embed{stage + 1}', patch_embeds[stage])
            if dim % head_dim:
                raise ValueError(f'embed_dims[{stage}]={dim} is not divisible by head_dim={head_dim}')
            stage_window_sizes = [None] * depth if window_sizes is None else window_sizes[stage]
            blocks = []
            for index, (window_size, rate) in enumerate(zip(stage_window_sizes,
                                                            drop_path_rates[block_index:block_index + depth])):
                if stage < 2:
                    block = LocalBlock(dim=dim, mlp_ratio=mlp_ratio, drop_path=rate, layer_scale=local_layer_scale,
                                       ndim=self.ndim)
                elif self.light:
                    # Stage 3 starts with one block over all tokens, whose attention alone sets the scores; in
                    # every later block half attend, and the scores blend half old, half new.
                    ratio = 1. if stage == 2 and index == 0 else .5
                    block = TokenPruningBlock(dim=dim, num_heads=dim // head_dim, mlp_ratio=mlp_ratio, drop_path=rate,
                                              layer_scale=layer_scale, ndim=self.ndim, keep_ratio=ratio,
                                              trade_off=ratio, pool_scores=stage == 2 and index == depth - 1,
                                              attn_precision=attn_precision)
                else:
                    block = AttentionBlock(dim=dim, num_heads=dim // head_dim, mlp_ratio=mlp_ratio, drop_path=rate,
                                           layer_scale=layer_scale, ndim=self.ndim, window_size=window_size,
                                           attn_precision=attn_precision)
                blocks.append(block)
            self.add_module(f'blocks{stage + 1}', nn.ModuleList(blocks))
            block_index += depth
        if self.light:
            self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dims[2]))
            self.cls_upsample = nn.Linear(embed_dims[2], embed_dims[3])
        self.apply(self._init_linear_and_norm)

    @classmethod
    def _resolve_arch(cls, arch: Union[str, dict]) -> dict:
        """``arch`` as a dict: a copy of its ``arch_zoo`` entry, or the dict checked, with tuples for lists."""
        if isinstance(arch, str):
            if arch not in cls.arch_zoo:
                raise ValueError(f'unknown arch {arch!r}; expected one of {sorted(cls.arch_zoo)} or a dict '
                                 "with keys 'depths', 'embed_dims', 'head_dim'")
            return dict(cls.arch_zoo[arch])
        if not isinstance(arch, dict):
            raise TypeError(f'arch must be a str or a dict, got {type(arch).__name__}')
        required = {'depths', 'embed_dims', 'head_dim'}
        optional = {'conv_stem', 'layer_scale', 'local_layer_scale', 'mlp_ratio', 'light'}
        if not required <= arch.keys() or not arch.keys() <= required | optional:
            raise ValueError(f'an arch dict needs keys {sorted(required)} (optional: {sorted(optional)}), '
                             f'got {sorted(arch)}')
        settings = dict(arch, depths=tuple(arch['depths']), embed_dims=tuple(arch['embed_dims']))
        for key in ('depths', 'embed_dims'):
            if len(settings[key]) != cls.num_stages:
                raise ValueError(f'arch {key} must have {cls.num_stages} entries, got {settings[key]}')
        return settings

    @classmethod
    def _resolve_with_cp(cls, with_cp: Union[bool, Sequence[int]], depths: Sequence[int]) -> Tuple[int, ...]:
        """Number of leading blocks per stage that run under gradient checkpointing."""
        if isinstance(with_cp, bool):
            return tuple(depths) if with_cp else (0, ) * cls.num_stages
        with_cp = tuple(with_cp)
        if len(with_cp) != cls.num_stages or any(n < 0 for n in with_cp):
            raise ValueError(f'with_cp must be a bool or {cls.num_stages} non-negative block counts '
                             f'(like the official checkpoint_num), got {with_cp}')
        return tuple(min(n, depth) for n, depth in zip(with_cp, depths))

    @staticmethod
    def _embedding_widths(arch: dict, in_channels: int) -> List[Tuple[int, int]]:
        """Input and output channels of each stage's patch embedding."""
        embed_dims = arch['embed_dims']
        return list(zip((in_channels, *embed_dims[:-1]), embed_dims))

    @staticmethod
    def _check_light_options(arch: dict, with_cls_token: bool, runs_last_stage: bool) -> None:
        """Refuses ``with_cls_token`` where there is no final class token to return."""
        if with_cls_token and not arch.get('light', False):
            raise ValueError('with_cls_token needs a light arch (xxs, xs): the others have no class token')
        if with_cls_token and not runs_last_stage:
            raise ValueError('with_cls_token returns the class token of stage 4, so the last stage must run')

    @staticmethod
    def _init_linear_and_norm(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            trunc_normal_(module.weight, std=.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)

    def _warn_if_pretrained_missing(self) -> None:
        # Inference and testing never call init_weights, so a missing file is only a warning here; training
        # (init_weights) raises the same message.
        if self.init_cfg is not None and self.init_cfg.get('type') == 'Pretrained':
            try:
                resolve_checkpoint(self.init_cfg['checkpoint'])
            except FileNotFoundError as missing:
                print_log(f'{missing}\n(Building works; training will stop at weight initialisation.)',
                          logger='current', level=logging.WARNING)

    def init_weights(self) -> None:
        """Loads ``init_cfg=dict(type='Pretrained', checkpoint=...)`` with :meth:`load_pretrained`; other
        init_cfgs as usual."""
        if self.init_cfg is not None and self.init_cfg.get('type') == 'Pretrained':
            self.load_pretrained(self.init_cfg['checkpoint'])
            self._is_init = True
        else:
            super().init_weights()

    def load_pretrained(self, checkpoint: str) -> Dict[str, List[str]]:
        """Loads a released or OpenMMLab checkpoint into this backbone, strictly: the one path behind ``init_cfg``.

        The file is read through mmengine's ``CheckpointLoader`` (under the checkpoint reader), its backbone state
        dict taken out (:func:`extract_state_dict`), adapted (:meth:`adapt_state_dict`) and loaded only if every
        tensor fits and every key either side lacks is explained by :meth:`explain_load_gaps`; otherwise
        :class:`CheckpointMismatchError` names the keys and nothing is loaded. A released checkpoint (by name or
        file name) made for another head_dim is refused before it is read (:func:`check_released_head_dim`).

        Args:
            checkpoint (str): A local path, a URL, or a name of ``RELEASED_CHECKPOINTS``.

        Returns:
            dict: ``loaded``, ``missing`` and ``unused`` key lists.
        """
        check_released_head_dim(checkpoint, self.arch['head_dim'])
        state_dict = self.adapt_state_dict(read_checkpoint_state_dict(checkpoint))
        return load_state_dict_strictly(self, state_dict, self.explain_load_gaps, source=checkpoint)

    def explain_load_gaps(self, missing: List[str], unexpected: List[str]) -> Dict[str, str]:
        """The keys a checkpoint may legitimately lack (``missing``) or hold beyond this backbone
        (``unexpected``), as ``{key: reason}``; the converters use it too."""
        return {}

    def adapt_state_dict(self, state_dict: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """Turns a released state dict into this backbone's layout before strict loading."""
        return state_dict

    def _prepare_input(self, x: torch.Tensor) -> torch.Tensor:
        """Checks the input layout and zero-pads height and width on the bottom/right to multiples of 32."""
        self._check_input(x)
        height, width, divisor = x.shape[-2], x.shape[-1], self.size_divisor
        # Unconditional for the same reason as the window padding: an exported graph must pad every size.
        pad_right, pad_bottom = (_ceil_div(size, divisor) * divisor - size for size in (width, height))
        return F.pad(x, (0, pad_right, 0, pad_bottom))

    def _check_input(self, x: torch.Tensor) -> None:
        expected_dims = self.ndim + 2
        if not isinstance(x, torch.Tensor) or x.dim() != expected_dims:
            got = f'shape {tuple(x.shape)}' if isinstance(x, torch.Tensor) else type(x).__name__
            layout = 'B, C, H, W' if self.ndim == 2 else 'B, C, T, H, W'
            raise ValueError(f'{type(self).__name__} expects a {expected_dims}D tensor ({layout}), got {got}')
        if x.shape[1] != self.in_channels:
            raise ValueError(f'{type(self).__name__} expects {self.in_channels} input channels, '
                             f'got {x.shape[1]} (input shape {tuple(x.shape)})')

    def _run_stages(self, x: torch.Tensor,
                    out_stages: Sequence[int]) -> Tuple[Dict[int, torch.Tensor], Optional[torch.Tensor]]:
        """Runs stages 0..max(``out_stages``); returns ``{stage: output map}`` for ``out_stages`` (the others are
        released as the next stage consumes them) and, for the light archs, the final class token."""
        maps = {}
        cls_token = scores = None
        for stage in range(max(out_stages) + 1):
            x = getattr(self, f'patch_embed{stage + 1}')(x)
            if self.light and stage == 2:
                # A copy rather than an expanded view: under no_grad a view of the parameter still requires grad
                # without a grad_fn, which module hooks (FLOP counters) refuse.
                cls_token = self.cls_token.repeat(x.shape[0], 1, 1)
            elif self.light and stage == 3:
                cls_token = self.cls_upsample(cls_token)
            num_checkpointed = self.checkpointed_blocks[stage] if torch.is_grad_enabled() else 0
            for index, block in enumerate(getattr(self, f'blocks{stage + 1}')):
                run = partial(cp.checkpoint, block, use_reentrant=False) if index < num_checkpointed else block
                if isinstance(block, TokenPruningBlock):
                    x, cls_token, scores = run(x, cls_token, scores)
                else:
                    x = run(x)
            if stage in out_stages:
                maps[stage] = x
        return maps, cls_token

    def switch_to_deploy(self, test_cfg: Optional[dict] = None) -> None:
        """Re-parameterises the backbone for inference (mmpretrain's convention): folds the BatchNorms of the local
        blocks and of the convolutional embeddings into the adjacent convolutions and each block's position
        embedding identity into its depthwise kernel. Outputs equal the unfolded model's in eval mode to float
        rounding. Irreversible; the backbone can no longer be trained or load checkpoints. A second call does
        nothing.

        Args:
            test_cfg (dict, optional): Unused. mmpose's ``BasePoseEstimator.switch_to_deploy`` (which mmdeploy
                calls) passes its ``test_cfg`` to every sub-module that has this method; folding does not depend
                on it.
        """
        if self.deploy:
            return
        for module in self.modules():
            if isinstance(module, (_ConditionalPosition, ConvPatchEmbed)):
                module.fold_for_inference()
        self.deploy = True
        self.eval()

    def _frozen_modules(self) -> List[nn.Module]:
        """Modules frozen by ``frozen_stages``: 0 freezes the stem, k >= 1 the stem and stages 1..k."""
        modules = []
        if self.frozen_stages >= 0:
            modules.append(self.patch_embed1)
        for stage in range(1, self.frozen_stages + 1):
            if stage > 1:
                modules.append(getattr(self, f'patch_embed{stage}'))
            modules.append(getattr(self, f'blocks{stage}'))
        if self.light and self.frozen_stages >= 4:
            modules.append(self.cls_upsample)
        return modules

    def _freeze_stages(self) -> None:
        for module in self._frozen_modules():
            module.eval()
            for param in module.parameters():
                param.requires_grad = False
        if self.light and self.frozen_stages >= 3:
            self.cls_token.requires_grad = False

    def train(self, mode: bool = True) -> 'UniFormerBase':
        if mode and self.deploy:
            raise RuntimeError(f'{type(self).__name__} was switched to deploy mode (BatchNorms folded): it can '
                               'run inference only; build a new one to train')
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self


@MODELS.register_module()
class UniFormer2D(UniFormerBase):
    """UniFormer image backbone for dense prediction (detection, segmentation, pose) and classification.

    Returns the outputs of the stages in ``out_indices`` (strides 4, 8, 16, 32). With ``out_norm='layer'``
    each passes a LayerNorm over channels (``norm1``..``norm4``), as in the official dense-prediction backbone;
    with ``out_norm='batch'`` the last stage passes the BatchNorm ``norm`` of the official ImageNet classifier,
    whose pooling and linear head are then the classifier's neck and head (mmpretrain's ``ImageClassifier``).

    The light archs 'xxs' and 'xs' attend in stages 3-4 with token-pruning blocks (:class:`TokenPruningBlock`)
    that carry a class token; ``with_cls_token`` also returns it, for the light classifiers' second head.

    Inputs whose height or width is not a multiple of 32 are zero-padded on the bottom and right to the next
    multiple (the official backbone silently drops the remainder instead), so that every stage halves the
    previous one exactly: a stage with stride ``s`` returns ``ceil(H / 32) * 32 / s`` rows, and likewise for
    columns. Inputs that are multiples of 32 are untouched. Stages after the last of ``out_indices`` are
    not run.

    Args:
        arch (str | dict): 'small', 'small_plus', 'small_plus_dim64', 'base', 'base_ls', the token-labeling
            release's 'small_dim32', 'base_dim32' and 'large_ls', the light 'xxs' and 'xs', or a dict with keys
            ``depths``, ``embed_dims``, ``head_dim`` and optionally ``conv_stem`` (bool), ``layer_scale``
            (initial value, float), ``local_layer_scale`` (bool: layer scale in the local blocks too),
            ``mlp_ratio`` and ``light`` (bool: the light models' stem and token-pruning stages 3-4).
            Defaults to 'small'.
        in_channels (int): Input channels. Defaults to 3.
        attn_mode (str): Attention of stage 3: 'global', 'window' (every block inside windows) or 'hybrid'
            (block i global when (i + 1) % 4 == 0, else window). Stage 4 is always global. Defaults to 'global'.
        window_size (int): Window size of the window blocks. Defaults to 14.
        out_indices (Sequence[int]): Stages (0-3) whose normed outputs are returned. Defaults to (0, 1, 2, 3).
        out_norm (str): 'layer' (a LayerNorm per output stage, dense prediction) or 'batch' (the ImageNet
            classifier's BatchNorm ``norm`` on the last stage; needs ``out_indices=(3, )``). Defaults to 'layer'.
        with_cls_token (bool): Light archs: return the final (B, C) class token after the maps. Defaults to
            False.
        mlp_ratio (float, optional): FFN hidden width relative to the block width. Defaults to the arch's: 4,
            or 3 for the light archs.
        drop_path_rate (float): Stochastic depth rate, increasing linearly over all blocks. Defaults to 0.
        frozen_stages (int): -1 freezes nothing, 0 the stem (``patch_embed1``), k >= 1 the stem and stages
            1..k with their patch embeddings and output norms (parameters fixed, BatchNorm in eval mode).
            Defaults to -1.
        norm_eval (bool): Keep every BatchNorm in eval mode while training. Defaults to False (the official
            recipes never froze BatchNorm).
        with_cp (bool | Sequence[int]): Gradient checkpointing. True for every block, or the number of leading
            blocks per stage, like the official ``checkpoint_num`` (e.g. ``(0, 0, 8, 0)``). Defaults to False.
        attn_precision (str): The dtype attention is computed in: 'auto' (float32 when the model runs in float16,
            cast or under autocast; otherwise the model's dtype, e.g. bfloat16), 'float32' (always) or 'input'
            (the model's dtype, as the release did). 'auto' because float16's range (65504) is what the release's
            NaN losses under mixed precision came from and float32 attention was its maintainers' fix, while
            bfloat16 has float32's range. Defaults to 'auto'.
        init_cfg (dict, optional): ``dict(type='Pretrained', checkpoint=PATH)`` loads an official ImageNet
            checkpoint or the backbone of an official downstream one; see ``checkpoint_loading``.
    """

    attn_modes = ('global', 'window', 'hybrid')
    out_norms = ('layer', 'batch')

    def __init__(self,
                 arch: Union[str, dict] = 'small',
                 in_channels: int = 3,
                 attn_mode: str = 'global',
                 window_size: int = 14,
                 out_indices: Sequence[int] = (0, 1, 2, 3),
                 out_norm: str = 'layer',
                 with_cls_token: bool = False,
                 mlp_ratio: Optional[float] = None,
                 drop_path_rate: float = 0.,
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 with_cp: Union[bool, Sequence[int]] = False,
                 attn_precision: str = 'auto',
                 init_cfg: Optional[dict] = None) -> None:
        if attn_mode not in self.attn_modes:
            raise ValueError(f'unknown attn_mode {attn_mode!r}; expected one of {self.attn_modes}')
        if not isinstance(window_size, int) or window_size < 1:
            raise ValueError(f'window_size must be a positive int, got {window_size!r}')
        out_indices = tuple(out_indices)
        if not out_indices or any(not 0 <= i < self.num_stages for i in out_indices):
            raise ValueError(f'out_indices must be non-empty stage indices in [0, {self.num_stages - 1}], '
                             f'got {out_indices}')
        if out_norm not in self.out_norms:
            raise ValueError(f'unknown out_norm {out_norm!r}; expected one of {self.out_norms}')
        if out_norm == 'batch' and out_indices != (self.num_stages - 1, ):
            raise ValueError(f"out_norm='batch' normalises the last stage only, as the ImageNet classifier does; "
                             f'it needs out_indices=({self.num_stages - 1}, ), got {out_indices}')
        arch = self._resolve_arch(arch)
        self._check_light_options(arch, with_cls_token, runs_last_stage=max(out_indices) == self.num_stages - 1)
        if arch.get('light', False) and attn_mode != 'global':
            raise ValueError("the light arch attends with token pruning; attn_mode must be 'global', "
                             f'got {attn_mode!r}')
        super().__init__(
            arch=arch,
            patch_embeds=self._patch_embeds(arch, in_channels),
            window_sizes=self._window_sizes(arch['depths'], attn_mode, window_size),
            in_channels=in_channels,
            mlp_ratio=mlp_ratio,
            drop_path_rate=drop_path_rate,
            frozen_stages=frozen_stages,
            norm_eval=norm_eval,
            with_cp=with_cp,
            attn_precision=attn_precision,
            init_cfg=init_cfg)
        self.attn_mode = attn_mode
        self.window_size = window_size
        self.out_indices = out_indices
        self.out_norm = out_norm
        self.with_cls_token = with_cls_token
        if out_norm == 'batch':
            self.norm = nn.BatchNorm2d(self.embed_dims[-1])
        else:
            for stage in out_indices:
                self.add_module(f'norm{stage + 1}',
                                ChannelsFirstLayerNorm(self.embed_dims[stage], eps=_TOKEN_NORM_EPS))
        self._freeze_stages()

    @classmethod
    def _patch_embeds(cls, arch: dict, in_channels: int) -> List[nn.Module]:
        """Overlapping convolutional embeddings with ``conv_stem`` (the light archs: in the stem only), else
        non-overlapping 4x4 patches, then 2x2."""
        embeds = []
        for stage, (in_dim, dim) in enumerate(cls._embedding_widths(arch, in_channels)):
            if arch.get('conv_stem', False) or (arch.get('light', False) and stage == 0):
                embeds.append(ConvPatchEmbed(in_dim, dim, stem=stage == 0))
            else:
                embeds.append(PatchEmbed(in_dim, dim, kernel_size=4 if stage == 0 else 2))
        return embeds

    @staticmethod
    def _window_sizes(depths: Sequence[int], attn_mode: str, window_size: int) -> List[List[Optional[int]]]:
        """Per stage, the window size of each block (None: global attention or a local block); only stage 3 has
        windows."""
        sizes = [[None] * depth for depth in depths]
        if attn_mode == 'window':
            sizes[2] = [window_size] * depths[2]
        elif attn_mode == 'hybrid':
            sizes[2] = [None if (i + 1) % 4 == 0 else window_size for i in range(depths[2])]
        return sizes

    def _frozen_modules(self) -> List[nn.Module]:
        modules = super()._frozen_modules()
        if self.out_norm == 'batch':
            if self.frozen_stages == self.num_stages:
                modules.append(self.norm)
            return modules
        for stage in range(1, self.frozen_stages + 1):
            if stage - 1 in self.out_indices:
                modules.append(getattr(self, f'norm{stage}'))
        return modules

    def explain_load_gaps(self, missing: List[str], unexpected: List[str]) -> Dict[str, str]:
        reasons = {}
        if self.out_norm == 'batch':
            for key in unexpected:
                if key.split('.')[0] in _CLASSIFIER_KEYS:
                    reasons[key] = ("ImageNet classifier, which the classifier's head holds "
                                    '(tools/convert_checkpoint.py imagenet loads it there)')
            return reasons
        own_norms = {f'norm{stage + 1}' for stage in self.out_indices}
        other_norms = {f'norm{stage}' for stage in range(1, self.num_stages + 1)} - own_norms
        for key in missing:
            if key.split('.')[0] in own_norms:
                reasons[key] = 'output norm of the dense-prediction backbone, absent from ImageNet checkpoints'
        for key in unexpected:
            prefix = key.split('.')[0]
            if prefix == 'norm' or prefix in _CLASSIFIER_KEYS:
                reasons[key] = 'ImageNet classification head, not part of a dense-prediction backbone'
            elif prefix in other_norms:
                reasons[key] = 'output norm of a stage not in out_indices'
        return reasons

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        maps, cls_token = self._run_stages(self._prepare_input(x), self.out_indices)
        if self.out_norm == 'batch':
            outs = [self.norm(maps[self.num_stages - 1])]
        else:
            outs = [getattr(self, f'norm{stage + 1}')(maps[stage]) for stage in self.out_indices]
        if self.with_cls_token:
            outs.append(cls_token[:, 0])
        return tuple(outs)


@MODELS.register_module()
class UniFormer3D(UniFormerBase):
    """UniFormer video backbone for mmaction2 recognizers, with the blocks of :class:`UniFormer2D` in 3D.

    Stem: a 3x4x4 convolution with stride 2x4x4 (temporal padding 1); later embeddings 1x2x2. Stages 3-4
    attend jointly over all T x H x W tokens. Returns the last stage's map after a BatchNorm3d (``norm``), as
    a (B, C, T', H', W') tensor for mmaction2's heads. Height and width are padded to multiples of 32 as in
    :class:`UniFormer2D`; T frames give ``ceil(T / 2)`` temporal positions.

    The light archs 'xxs', 'xs' (and 'xxs_ls', the release's XXS Kinetics models with layer scale 0.1 in every
    block) have a two-convolution 3x3x3 stem (the second halves the frames) and token-pruning stages 3-4 over
    all T x H x W tokens; ``with_cls_token`` then returns ``(map, class token)``.

    Args:
        arch (str | dict): 'small', 'base', 'xxs', 'xs', 'xxs_ls', or a dict with keys ``depths``,
            ``embed_dims``, ``head_dim`` (and optionally ``layer_scale``, ``local_layer_scale``, ``mlp_ratio``,
            ``light``). Defaults to 'small'.
        in_channels (int): Input channels. Defaults to 3.
        with_cls_token (bool): Light archs: also return the final (B, C) class token. Defaults to False.
        mlp_ratio (float, optional): FFN hidden width relative to the block width. Defaults to the arch's: 4,
            or 3 for the light archs.
        drop_path_rate (float): Stochastic depth rate, increasing linearly over all blocks. Defaults to 0.
        frozen_stages (int): -1 freezes nothing, 0 the stem, k >= 1 the stem and stages 1..k (4 also freezes
            ``norm``). Defaults to -1.
        norm_eval (bool): Keep every BatchNorm in eval mode while training. Defaults to False.
        with_cp (bool | Sequence[int]): Gradient checkpointing, all blocks or leading blocks per stage.
            Defaults to False.
        attn_precision (str): The dtype attention is computed in: 'auto' (float32 when the model runs in float16,
            cast or under autocast; otherwise the model's dtype, e.g. bfloat16), 'float32' (always) or 'input'
            (the model's dtype, as the release did). 'auto' because float16's range (65504) is what the release's
            NaN losses under mixed precision came from and float32 attention was its maintainers' fix, while
            bfloat16 has float32's range. Defaults to 'auto'.
        inflate (str): How ``init_cfg`` inflates a 2D (ImageNet) checkpoint: 'avg' repeats each 2D kernel over
            time and divides by its temporal size (the official rule), 'center' puts it in the central frame.
            Defaults to 'avg'.
        init_cfg (dict, optional): ``dict(type='Pretrained', checkpoint=PATH)`` loads an official Kinetics
            checkpoint (``{'model_state': ...}``), an mmaction2 UniFormer checkpoint, or an ImageNet one by
            inflation.
    """

    arch_zoo = {name: UniFormerBase.arch_zoo[name] for name in ('small', 'base', 'xxs', 'xs')}
    arch_zoo['xxs_ls'] = dict(arch_zoo['xxs'], layer_scale=0.1, local_layer_scale=True)
    ndim = 3
    inflate_modes = ('avg', 'center')

    def __init__(self,
                 arch: Union[str, dict] = 'small',
                 in_channels: int = 3,
                 with_cls_token: bool = False,
                 mlp_ratio: Optional[float] = None,
                 drop_path_rate: float = 0.,
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 with_cp: Union[bool, Sequence[int]] = False,
                 attn_precision: str = 'auto',
                 inflate: str = 'avg',
                 init_cfg: Optional[dict] = None) -> None:
        if inflate not in self.inflate_modes:
            raise ValueError(f'unknown inflate {inflate!r}; expected one of {self.inflate_modes}')
        arch = self._resolve_arch(arch)
        self._check_light_options(arch, with_cls_token, runs_last_stage=True)
        super().__init__(
            arch=arch,
            patch_embeds=self._patch_embeds(arch, in_channels),
            in_channels=in_channels,
            mlp_ratio=mlp_ratio,
            drop_path_rate=drop_path_rate,
            frozen_stages=frozen_stages,
            norm_eval=norm_eval,
            with_cp=with_cp,
            attn_precision=attn_precision,
            init_cfg=init_cfg)
        self.inflate = inflate
        self.with_cls_token = with_cls_token
        self.norm = nn.BatchNorm3d(self.embed_dims[-1])
        self._freeze_stages()

    @classmethod
    def _patch_embeds(cls, arch: dict, in_channels: int) -> List[nn.Module]:
        """The stem (the light archs' two convolutions, else 3x4x4 patches with stride 2x4x4), then 1x2x2
        patches."""
        if arch.get('conv_stem', False):
            raise ValueError('the overlapping conv stem (conv_stem) exists for UniFormer2D only')
        embeds = []
        for stage, (in_dim, dim) in enumerate(cls._embedding_widths(arch, in_channels)):
            if stage == 0 and arch.get('light', False):
                embeds.append(ConvPatchEmbed(in_dim, dim, stem=True, ndim=3))
            elif stage == 0:
                embeds.append(
                    PatchEmbed(in_dim, dim, kernel_size=(3, 4, 4), stride=(2, 4, 4), padding=(1, 0, 0), ndim=3))
            else:
                embeds.append(PatchEmbed(in_dim, dim, kernel_size=(1, 2, 2), ndim=3))
        return embeds

    def _frozen_modules(self) -> List[nn.Module]:
        modules = super()._frozen_modules()
        if self.frozen_stages == self.num_stages:
            modules.append(self.norm)
        return modules

    def explain_load_gaps(self, missing: List[str], unexpected: List[str]) -> Dict[str, str]:
        return {key: "the checkpoint's classifier (Kinetics or ImageNet classes); the recognizer's cls_head "
                     'holds the classes' for key in unexpected if key.split('.')[0] in _CLASSIFIER_KEYS}

    def adapt_state_dict(self, state_dict: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        return inflate_2d_to_3d(state_dict, self.state_dict(), self.inflate)

    def forward(self, x: torch.Tensor) -> Union[torch.Tensor, Tuple[torch.Tensor, torch.Tensor]]:
        maps, cls_token = self._run_stages(self._prepare_input(x), (self.num_stages - 1, ))
        feature_map = self.norm(maps[self.num_stages - 1])
        return (feature_map, cls_token[:, 0]) if self.with_cls_token else feature_map
