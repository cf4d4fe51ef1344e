"""UniFormer backbones (arXiv 2201.09450) for OpenMMLab 2.0.

One family in one file. The blocks are written once for any number of spatial dimensions (``ndim`` 2 for
images, 3 for videos); a stage-3 attention variant (global, window, hybrid) is a per-block window size,
not a separate class. Parameter names follow the official release (``patch_embed{i}``, ``blocks{i}``,
``norm{i}``), so its checkpoints load without renaming.
"""
import logging
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
from .checkpoint_loading import inflate_2d_to_3d, load_pretrained

_CONV = {2: nn.Conv2d, 3: nn.Conv3d}
_BATCH_NORM = {2: nn.BatchNorm2d, 3: nn.BatchNorm3d}
# The official release normalises tokens with eps 1e-6, but its patch embeddings use nn.LayerNorm's default.
_TOKEN_NORM_EPS = 1e-6
_PATCH_NORM_EPS = 1e-5


class ConvFFN(nn.Module):
    """Feed-forward network of the local blocks: two 1x1 convolutions with GELU between them."""

    def __init__(self, dim: int, hidden_dim: int, ndim: int = 2) -> None:
        super().__init__()
        self.fc1 = _CONV[ndim](dim, hidden_dim, 1)
        self.act = nn.GELU()
        self.fc2 = _CONV[ndim](hidden_dim, dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class TokenFFN(nn.Module):
    """Feed-forward network of the attention blocks, on (B, N, C) tokens."""

    def __init__(self, dim: int, hidden_dim: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden_dim)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class MultiheadSelfAttention(nn.Module):
    """Multi-head self-attention with a fused qkv projection, through ``scaled_dot_product_attention``.

    Args:
        dim (int): Token width.
        num_heads (int): Number of heads; ``dim`` must be divisible by it.
    """

    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f'width {dim} is not divisible by {num_heads} heads')
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, num_tokens, dim = x.shape
        qkv = self.qkv(x).reshape(batch, num_tokens, 3, self.num_heads, dim // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        # The default scale, head_dim ** -0.5, is the official one.
        out = F.scaled_dot_product_attention(q, k, v)
        return self.proj(out.transpose(1, 2).reshape(batch, num_tokens, dim))


def _layer_scales(dim: int, value: Optional[float], shape: Tuple[int, ...]) -> Tuple[Optional[nn.Parameter], ...]:
    """The per-channel residual scales ``gamma_1``/``gamma_2`` (None, None when ``value`` is None)."""
    if value is None:
        return None, None
    return tuple(nn.Parameter(torch.full(shape, float(value))) for _ in range(2))


class LocalBlock(nn.Module):
    """Block with local relation aggregation ("CBlock"): a 5x5 depthwise convolution between 1x1 ones.

    Args:
        dim (int): Channels.
        mlp_ratio (float): Hidden width of the FFN relative to ``dim``.
        drop_path (float): Stochastic depth rate.
        ndim (int): Spatial dimensions, 2 or 3.
        layer_scale (float, optional): Initial value of the per-channel residual scales ``gamma_1``/``gamma_2``
            of shape (1, C, 1, 1) (the token-labeling ``large_ls``); None disables them.
    """

    def __init__(self,
                 dim: int,
                 mlp_ratio: float = 4.,
                 drop_path: float = 0.,
                 ndim: int = 2,
                 layer_scale: Optional[float] = None) -> None:
        super().__init__()
        conv, batch_norm = _CONV[ndim], _BATCH_NORM[ndim]
        self.pos_embed = conv(dim, dim, 3, padding=1, groups=dim)
        self.norm1 = batch_norm(dim)
        self.conv1 = conv(dim, dim, 1)
        self.attn = conv(dim, dim, 5, padding=2, groups=dim)
        self.conv2 = conv(dim, dim, 1)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.norm2 = batch_norm(dim)
        self.mlp = ConvFFN(dim, int(dim * mlp_ratio), ndim)
        self.gamma_1, self.gamma_2 = _layer_scales(dim, layer_scale, (1, dim) + (1, ) * ndim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.pos_embed(x)
        aggregated = self.conv2(self.attn(self.conv1(self.norm1(x))))
        if self.gamma_1 is not None:
            aggregated = self.gamma_1 * aggregated
        x = x + self.drop_path(aggregated)
        mixed = self.mlp(self.norm2(x))
        if self.gamma_2 is not None:
            mixed = self.gamma_2 * mixed
        return x + self.drop_path(mixed)


class AttentionBlock(nn.Module):
    """Block with global relation aggregation ("SABlock"): self-attention over all tokens, or inside windows.

    Window attention (2D only) follows the official dense-prediction release exactly: the normalised tokens
    are zero-padded on the right and bottom to a multiple of ``window_size`` and attended inside each window
    with no mask, so padded tokens take part as keys and values (through the qkv bias), then cropped back.

    Args:
        dim (int): Channels.
        num_heads (int): Attention heads.
        mlp_ratio (float): Hidden width of the FFN relative to ``dim``.
        drop_path (float): Stochastic depth rate.
        window_size (int, optional): Attend inside non-overlapping windows of this size; None attends globally.
        layer_scale (float, optional): Initial value of the per-channel residual scales ``gamma_1``/``gamma_2``;
            None disables them.
        ndim (int): Spatial dimensions, 2 or 3.
    """

    def __init__(self,
                 dim: int,
                 num_heads: int,
                 mlp_ratio: float = 4.,
                 drop_path: float = 0.,
                 window_size: Optional[int] = None,
                 layer_scale: Optional[float] = None,
                 ndim: int = 2) -> None:
        super().__init__()
        if window_size is not None and ndim != 2:
            raise ValueError('window attention is defined for 2D inputs only')
        self.window_size = window_size
        self.pos_embed = _CONV[ndim](dim, dim, 3, padding=1, groups=dim)
        self.norm1 = nn.LayerNorm(dim, eps=_TOKEN_NORM_EPS)
        self.attn = MultiheadSelfAttention(dim, num_heads)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.norm2 = nn.LayerNorm(dim, eps=_TOKEN_NORM_EPS)
        self.mlp = TokenFFN(dim, int(dim * mlp_ratio))
        self.gamma_1, self.gamma_2 = _layer_scales(dim, layer_scale, (dim, ))

    def _window_attention(self, tokens: torch.Tensor, height: int, width: int) -> torch.Tensor:
        size = self.window_size
        batch, _, dim = tokens.shape
        x = tokens.reshape(batch, height, width, dim)
        pad_bottom, pad_right = -height % size, -width % size
        if pad_bottom or pad_right:
            x = F.pad(x, (0, 0, 0, pad_right, 0, pad_bottom))
        rows, cols = (height + pad_bottom) // size, (width + pad_right) // size
        windows = x.view(batch, rows, size, cols, size, dim).transpose(2, 3).reshape(-1, size * size, dim)
        x = self.attn(windows).view(batch, rows, cols, size, size, dim).transpose(2, 3)
        x = x.reshape(batch, rows * size, cols * size, dim)[:, :height, :width]
        return x.reshape(batch, height * width, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.pos_embed(x)
        shape = x.shape
        tokens = x.flatten(2).transpose(1, 2)
        normed = self.norm1(tokens)
        if self.window_size is None:
            attended = self.attn(normed)
        else:
            attended = self._window_attention(normed, shape[-2], shape[-1])
        if self.gamma_1 is not None:
            attended = self.gamma_1 * attended
        tokens = tokens + self.drop_path(attended)
        mixed = self.mlp(self.norm2(tokens))
        if self.gamma_2 is not None:
            mixed = self.gamma_2 * mixed
        tokens = tokens + self.drop_path(mixed)
        return tokens.transpose(1, 2).reshape(shape)


def _layer_norm_channels(norm: nn.LayerNorm, x: torch.Tensor) -> torch.Tensor:
    """Applies a LayerNorm over the channel dimension of a (B, C, ...) map."""
    return norm(x.movedim(1, -1)).movedim(-1, 1).contiguous()


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
        self.norm = nn.LayerNorm(embed_dim, eps=_PATCH_NORM_EPS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _layer_norm_channels(self.norm, self.proj(x))


class ConvPatchEmbed(nn.Module):
    """Overlapping convolutional embedding of ``small_plus``: 3x3 stride-2 convolutions with BatchNorm.

    The stem (``stem=True``, stride 4) has two convolutions with GELU between them; later stages have one.
    """

    def __init__(self, in_channels: int, embed_dim: int, stem: bool) -> None:
        super().__init__()
        if stem:
            hidden = embed_dim // 2
            self.proj = nn.Sequential(
                nn.Conv2d(in_channels, hidden, 3, 2, 1), nn.BatchNorm2d(hidden), nn.GELU(),
                nn.Conv2d(hidden, embed_dim, 3, 2, 1), nn.BatchNorm2d(embed_dim))
        else:
            self.proj = nn.Sequential(nn.Conv2d(in_channels, embed_dim, 3, 2, 1), nn.BatchNorm2d(embed_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x)


class UniFormerBase(BaseModule):
    """The four UniFormer stages, shared by the image and video backbones.

    Subclasses choose the patch embeddings (``_build_patch_embed``) and, for stage 3, the window size of each
    block (``_stage_window_sizes``). Everything else, including ``arch`` resolution, stochastic depth,
    gradient checkpointing, ``frozen_stages``, ``norm_eval`` and checkpoint loading, lives here once.
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
    }
    ndim = 2
    num_stages = 4
    size_divisor = 32

    def __init__(self,
                 arch: Union[str, dict] = 'small',
                 in_channels: int = 3,
                 mlp_ratio: float = 4.,
                 drop_path_rate: float = 0.,
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 with_cp: Union[bool, Sequence[int]] = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self._warn_if_pretrained_missing()
        self.arch_settings = self._resolve_arch(arch)
        depths = self.arch_settings['depths']
        embed_dims = self.arch_settings['embed_dims']
        head_dim = self.arch_settings['head_dim']
        layer_scale = self.arch_settings.get('layer_scale')
        self.in_channels = in_channels
        self.embed_dims = embed_dims
        self.depths = depths
        if not -1 <= frozen_stages <= self.num_stages:
            raise ValueError(f'frozen_stages must be in [-1, {self.num_stages}], got {frozen_stages}')
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.checkpointed_blocks = self._resolve_with_cp(with_cp, depths)

        drop_path_rates = torch.linspace(0, drop_path_rate, sum(depths)).tolist()
        block_index = 0
        for stage, (depth, dim) in enumerate(zip(depths, embed_dims)):
            in_dim = in_channels if stage == 0 else embed_dims[stage - 1]
            self.add_module(f'patch_embed{stage + 1}', self._build_patch_embed(stage, in_dim, dim))
            if dim % head_dim:
                raise ValueError(f'embed_dims[{stage}]={dim} is not divisible by head_dim={head_dim}')
            blocks = []
            for window_size, rate in zip(self._stage_window_sizes(stage, depth),
                                         drop_path_rates[block_index:block_index + depth]):
                if stage < 2:
                    local_scale = layer_scale if self.arch_settings.get('local_layer_scale', False) else None
                    blocks.append(LocalBlock(dim, mlp_ratio, rate, self.ndim, local_scale))
                else:
                    blocks.append(
                        AttentionBlock(dim, dim // head_dim, mlp_ratio, rate, window_size, layer_scale, self.ndim))
            self.add_module(f'blocks{stage + 1}', nn.ModuleList(blocks))
            block_index += depth
        self.apply(self._init_linear_and_norm)

    @classmethod
    def _resolve_arch(cls, arch: Union[str, dict]) -> dict:
        if isinstance(arch, str):
            if arch not in cls.arch_zoo:
                raise ValueError(f'unknown arch {arch!r}; expected one of {sorted(cls.arch_zoo)} or a dict '
                                 "with keys 'depths', 'embed_dims', 'head_dim'")
            return dict(cls.arch_zoo[arch])
        if not isinstance(arch, dict):
            raise TypeError(f'arch must be a str or a dict, got {type(arch).__name__}')
        required = {'depths', 'embed_dims', 'head_dim'}
        optional = {'conv_stem', 'layer_scale', 'local_layer_scale'}
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

    def _build_patch_embed(self, stage: int, in_dim: int, dim: int) -> nn.Module:
        raise NotImplementedError

    def _stage_window_sizes(self, stage: int, depth: int) -> List[Optional[int]]:
        """Window size of each block of a stage (None: global attention or a local block)."""
        return [None] * depth

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
        """Loads ``init_cfg=dict(type='Pretrained', checkpoint=...)`` strictly; other init_cfgs as usual."""
        if self.init_cfg is not None and self.init_cfg.get('type') == 'Pretrained':
            load_pretrained(self, self.init_cfg['checkpoint'], self._expected_load_gaps, self._adapt_state_dict)
            self._is_init = True
        else:
            super().init_weights()

    def _expected_load_gaps(self, missing: List[str], unexpected: List[str]) -> Dict[str, str]:
        """Explains the keys that may legitimately be missing or unused: {key: reason}."""
        return {}

    def _adapt_state_dict(self, state_dict: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """Turns a released state dict into this backbone's layout before strict loading."""
        return state_dict

    def _prepare_input(self, x: torch.Tensor) -> torch.Tensor:
        """Checks the input layout and zero-pads height and width on the bottom/right to multiples of 32."""
        self._check_input(x)
        pad_bottom, pad_right = -x.shape[-2] % self.size_divisor, -x.shape[-1] % self.size_divisor
        if pad_bottom or pad_right:
            x = F.pad(x, (0, pad_right, 0, pad_bottom))
        return x

    def _check_input(self, x: torch.Tensor) -> None:
        expected_dims = self.ndim + 2
        if not isinstance(x, torch.Tensor) or x.dim() != expected_dims:
            got = f'shape {tuple(x.shape)}' if isinstance(x, torch.Tensor) else type(x).__name__
            layout = 'B, C, H, W' if self.ndim == 2 else 'B, C, T, H, W'
            raise ValueError(f'{type(self).__name__} expects a {expected_dims}D tensor ({layout}), got {got}')
        if x.shape[1] != self.in_channels:
            raise ValueError(f'{type(self).__name__} expects {self.in_channels} input channels, '
                             f'got {x.shape[1]} (input shape {tuple(x.shape)})')

    def _run_stage(self, stage: int, x: torch.Tensor) -> torch.Tensor:
        x = getattr(self, f'patch_embed{stage + 1}')(x)
        num_checkpointed = self.checkpointed_blocks[stage] if torch.is_grad_enabled() else 0
        for index, block in enumerate(getattr(self, f'blocks{stage + 1}')):
            if index < num_checkpointed:
                x = cp.checkpoint(block, x, use_reentrant=False)
            else:
                x = block(x)
        return x

    def _frozen_modules(self) -> List[nn.Module]:
        """Modules frozen by ``frozen_stages``: 0 freezes the stem, k >= 1 the stem and stages 1..k."""
        modules = []
        if self.frozen_stages >= 0:
            modules.append(self.patch_embed1)
        for stage in range(1, self.frozen_stages + 1):
            if stage > 1:
                modules.append(getattr(self, f'patch_embed{stage}'))
            modules.append(getattr(self, f'blocks{stage}'))
        return modules

    def _freeze_stages(self) -> None:
        for module in self._frozen_modules():
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True) -> 'UniFormerBase':
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

    Inputs whose height or width is not a multiple of 32 are zero-padded on the bottom and right to the next
    multiple (the official backbone silently drops the remainder instead), so that every stage halves the
    previous one exactly: a stage with stride ``s`` returns ``ceil(H / 32) * 32 / s`` rows, and likewise for
    columns. Inputs that are multiples of 32 are untouched. Stages after the last of ``out_indices`` are
    not run.

    Args:
        arch (str | dict): 'small', 'small_plus', 'small_plus_dim64', 'base', 'base_ls', the token-labeling
            release's 'small_dim32', 'base_dim32' and 'large_ls', or a dict with keys ``depths``,
            ``embed_dims``, ``head_dim`` and optionally ``conv_stem`` (bool), ``layer_scale`` (initial value,
            float) and ``local_layer_scale`` (bool: layer scale in the local blocks too). Defaults to 'small'.
        in_channels (int): Input channels. Defaults to 3.
        attn_mode (str): Attention of stage 3: 'global', 'window' (every block inside windows) or 'hybrid'
            (block i global when (i + 1) % 4 == 0, else window). Stage 4 is always global. Defaults to 'global'.
        window_size (int): Window size of the window blocks. Defaults to 14.
        out_indices (Sequence[int]): Stages (0-3) whose normed outputs are returned. Defaults to (0, 1, 2, 3).
        out_norm (str): 'layer' (a LayerNorm per output stage, dense prediction) or 'batch' (the ImageNet
            classifier's BatchNorm ``norm`` on the last stage; needs ``out_indices=(3, )``). Defaults to 'layer'.
        mlp_ratio (float): FFN hidden width relative to the block width. Defaults to 4.
        drop_path_rate (float): Stochastic depth rate, increasing linearly over all blocks. Defaults to 0.
        frozen_stages (int): -1 freezes nothing, 0 the stem (``patch_embed1``), k >= 1 the stem and stages
            1..k with their patch embeddings and output norms (parameters fixed, BatchNorm in eval mode).
            Defaults to -1.
        norm_eval (bool): Keep every BatchNorm in eval mode while training. Defaults to False (the official
            recipes never froze BatchNorm).
        with_cp (bool | Sequence[int]): Gradient checkpointing. True for every block, or the number of leading
            blocks per stage, like the official ``checkpoint_num`` (e.g. ``(0, 0, 8, 0)``). Defaults to False.
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
                 mlp_ratio: float = 4.,
                 drop_path_rate: float = 0.,
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 with_cp: Union[bool, Sequence[int]] = False,
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
        self.attn_mode = attn_mode
        self.window_size = window_size
        self.out_indices = out_indices
        self.out_norm = out_norm
        super().__init__(arch, in_channels, mlp_ratio, drop_path_rate, frozen_stages, norm_eval, with_cp,
                         init_cfg)
        if out_norm == 'batch':
            self.norm = nn.BatchNorm2d(self.embed_dims[-1])
        else:
            for stage in out_indices:
                self.add_module(f'norm{stage + 1}', nn.LayerNorm(self.embed_dims[stage], eps=_TOKEN_NORM_EPS))
        self._freeze_stages()

    def _build_patch_embed(self, stage: int, in_dim: int, dim: int) -> nn.Module:
        if self.arch_settings.get('conv_stem', False):
            return ConvPatchEmbed(in_dim, dim, stem=stage == 0)
        return PatchEmbed(in_dim, dim, kernel_size=4 if stage == 0 else 2)

    def _stage_window_sizes(self, stage: int, depth: int) -> List[Optional[int]]:
        if stage != 2 or self.attn_mode == 'global':
            return [None] * depth
        if self.attn_mode == 'window':
            return [self.window_size] * depth
        return [None if (i + 1) % 4 == 0 else self.window_size for i in range(depth)]

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

    def _expected_load_gaps(self, missing: List[str], unexpected: List[str]) -> Dict[str, str]:
        reasons = {}
        if self.out_norm == 'batch':
            for key in unexpected:
                if key.split('.')[0] in ('head', 'aux_head'):
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
            if prefix in ('norm', 'head', 'aux_head'):
                reasons[key] = 'ImageNet classification head, not part of a dense-prediction backbone'
            elif prefix in other_norms:
                reasons[key] = 'output norm of a stage not in out_indices'
        return reasons

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        x = self._prepare_input(x)
        outs = []
        for stage in range(self.num_stages):
            x = self._run_stage(stage, x)
            if self.out_norm == 'batch' and stage == self.num_stages - 1:
                outs.append(self.norm(x))
            elif stage in self.out_indices:
                outs.append(_layer_norm_channels(getattr(self, f'norm{stage + 1}'), x))
            if stage >= max(self.out_indices):
                break
        return tuple(outs)


@MODELS.register_module()
class UniFormer3D(UniFormerBase):
    """UniFormer video backbone for mmaction2 recognizers, with the blocks of :class:`UniFormer2D` in 3D.

    Stem: a 3x4x4 convolution with stride 2x4x4 (temporal padding 1); later embeddings 1x2x2. Stages 3-4
    attend jointly over all T x H x W tokens. Returns the last stage's map after a BatchNorm3d (``norm``), as
    a (B, C, T', H', W') tensor for mmaction2's heads. Height and width are padded to multiples of 32 as in
    :class:`UniFormer2D`; T frames give ``ceil(T / 2)`` temporal positions.

    Args:
        arch (str | dict): 'small', 'base', or a dict with keys ``depths``, ``embed_dims``, ``head_dim`` (and
            optionally ``layer_scale``). Defaults to 'small'.
        in_channels (int): Input channels. Defaults to 3.
        mlp_ratio (float): FFN hidden width relative to the block width. Defaults to 4.
        drop_path_rate (float): Stochastic depth rate, increasing linearly over all blocks. Defaults to 0.
        frozen_stages (int): -1 freezes nothing, 0 the stem, k >= 1 the stem and stages 1..k (4 also freezes
            ``norm``). Defaults to -1.
        norm_eval (bool): Keep every BatchNorm in eval mode while training. Defaults to False.
        with_cp (bool | Sequence[int]): Gradient checkpointing, all blocks or leading blocks per stage.
            Defaults to False.
        inflate (str): How ``init_cfg`` inflates a 2D (ImageNet) checkpoint: 'avg' repeats each 2D kernel over
            time and divides by its temporal size (the official rule), 'center' puts it in the central frame.
            Defaults to 'avg'.
        init_cfg (dict, optional): ``dict(type='Pretrained', checkpoint=PATH)`` loads an official Kinetics
            checkpoint (``{'model_state': ...}``), an mmaction2 UniFormer checkpoint, or an ImageNet one by
            inflation.
    """

    arch_zoo = {name: UniFormerBase.arch_zoo[name] for name in ('small', 'base')}
    ndim = 3
    inflate_modes = ('avg', 'center')

    def __init__(self,
                 arch: Union[str, dict] = 'small',
                 in_channels: int = 3,
                 mlp_ratio: float = 4.,
                 drop_path_rate: float = 0.,
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 with_cp: Union[bool, Sequence[int]] = False,
                 inflate: str = 'avg',
                 init_cfg: Optional[dict] = None) -> None:
        if inflate not in self.inflate_modes:
            raise ValueError(f'unknown inflate {inflate!r}; expected one of {self.inflate_modes}')
        self.inflate = inflate
        super().__init__(arch, in_channels, mlp_ratio, drop_path_rate, frozen_stages, norm_eval, with_cp,
                         init_cfg)
        self.norm = nn.BatchNorm3d(self.embed_dims[-1])
        self._freeze_stages()

    def _build_patch_embed(self, stage: int, in_dim: int, dim: int) -> nn.Module:
        if self.arch_settings.get('conv_stem', False):
            raise ValueError('the overlapping conv stem (conv_stem) exists for UniFormer2D only')
        if stage == 0:
            return PatchEmbed(in_dim, dim, kernel_size=(3, 4, 4), stride=(2, 4, 4), padding=(1, 0, 0), ndim=3)
        return PatchEmbed(in_dim, dim, kernel_size=(1, 2, 2), ndim=3)

    def _frozen_modules(self) -> List[nn.Module]:
        modules = super()._frozen_modules()
        if self.frozen_stages == self.num_stages:
            modules.append(self.norm)
        return modules

    def _expected_load_gaps(self, missing: List[str], unexpected: List[str]) -> Dict[str, str]:
        return {key: "the checkpoint's classifier (Kinetics or ImageNet classes); the recognizer's cls_head "
                     'holds the classes' for key in unexpected if key.split('.')[0] == 'head'}

    def _adapt_state_dict(self, state_dict: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        return inflate_2d_to_3d(state_dict, self.state_dict(), self.inflate)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self._prepare_input(x)
        for stage in range(self.num_stages):
            x = self._run_stage(stage, x)
        return self.norm(x)
