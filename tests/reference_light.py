"""An independent, deliberately plain re-statement of the official light ("Hourglass") UniFormer XXS / XS models:
the ImageNet classifier, the dense-prediction backbone and the Kinetics classifier (with or without layer scale).

Used only as a test oracle. It imports nothing but torch and follows the release step by step
(``image_classification/models/uniformer_light.py``, ``object_detection/mmdet/models/backbones/uniformer_light.py``,
``video_classification/slowfast/models/uniformer_light{_fp32,_ls_fp32}.py``), with explicit softmax attention.
The release keeps the token-pruning state (running scores, token positions) in module globals; here it is passed
explicitly from block to block and from stage 3 to stage 4. Its state-dict keys (and their order) are the
official ones. There is no drop path and no dropout: the released configs use dropout 0, and the oracle is
compared with drop path 0.

Token pruning of one block (every stage-3 block but the first, every stage-4 block), per sample:
  * the positional conv runs on the full dense map, then the map is flattened (row-major, t-major for video);
  * K = int(N * prune_ratio); tokens, scores and original positions are sorted by descending score;
  * the N - K dropped tokens are merged into one representative token, the score-weighted mean;
  * attention and MLP (the "slow path") run on [cls; kept; rep];
  * every dropped token gets the rep token's attention and MLP residuals (the "fast update", no drop path);
  * the kept tokens' scores move towards the class token's attention: s = (1 - t) s + t c, t = trade_off;
  * the order is restored, so every block returns a full dense map.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


def light_arch(arch):
    """The two released light archs (a fresh dict on every call)."""
    if arch == 'xxs':
        return dict(depths=(2, 5, 8, 2), dims=(56, 112, 224, 448), head_dim=28)
    if arch == 'xs':
        return dict(depths=(3, 5, 9, 3), dims=(64, 128, 256, 512), head_dim=32)
    raise ValueError(f'unknown light arch {arch!r}; expected "xxs" or "xs"')


def light_prune_schedule(depths):
    """(prune_ratio, trade_off) of every stage-3 and stage-4 block, as in both released archs.

    The first stage-3 block keeps every token (ratio 1) and initialises the scores; every other block keeps half.
    """
    stage3 = [(1.0, 1.0)] + [(0.5, 0.5)] * (depths[2] - 1)
    stage4 = [(0.5, 0.5)] * depths[3]
    return stage3, stage4


def _conv(ndim):
    return nn.Conv2d if ndim == 2 else nn.Conv3d


def _batch_norm(ndim):
    return nn.BatchNorm2d if ndim == 2 else nn.BatchNorm3d


def _channels_last_norm(norm, x):
    """LayerNorm over the channels of an N C (T) H W map."""
    return norm(x.movedim(1, -1)).movedim(-1, 1)


class RefLightAttention(nn.Module):
    """Plain multi-head softmax attention that also returns the class-token row of the probabilities.

    ``cls_row`` is the head mean of softmax(q k^T / sqrt(d))[:, :, 0, 1:], i.e. what the first token (the class
    token) attends to every other token, after the softmax and without renormalisation.
    """

    def __init__(self, dim, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, tokens):
        batch, length, dim = tokens.shape
        head_dim = dim // self.num_heads
        q, k, v = self.qkv(tokens).split(dim, dim=-1)

        def heads(t):
            return t.reshape(batch, length, self.num_heads, head_dim).permute(0, 2, 1, 3)

        q, k, v = heads(q), heads(k), heads(v)
        weights = torch.softmax((q @ k.transpose(-2, -1)) * head_dim**-0.5, dim=-1)
        cls_row = weights[:, :, 0, 1:].mean(dim=1)
        out = (weights @ v).permute(0, 2, 1, 3).reshape(batch, length, dim)
        return self.proj(out), cls_row


class RefLightMlp(nn.Module):
    """fc1 -> GELU -> fc2 with hidden width 3C: Linear layers on tokens, or 1x1 convs on maps (``ndim``)."""

    def __init__(self, dim, ndim=None):
        super().__init__()
        hidden = int(dim * 3)
        if ndim is None:
            self.fc1, self.fc2 = nn.Linear(dim, hidden), nn.Linear(hidden, dim)
        else:
            self.fc1, self.fc2 = _conv(ndim)(dim, hidden, 1), _conv(ndim)(hidden, dim, 1)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class RefLightCBlock(nn.Module):
    """Local conv block of stages 1-2 (MLP ratio 3; the 5x5 / 5x5x5 depthwise conv sits between two 1x1 convs)."""

    def __init__(self, dim, ndim=2, layer_scale=None):
        super().__init__()
        conv, batch_norm = _conv(ndim), _batch_norm(ndim)
        self.pos_embed = conv(dim, dim, 3, padding=1, groups=dim)
        self.norm1 = batch_norm(dim)
        self.conv1 = conv(dim, dim, 1)
        self.conv2 = conv(dim, dim, 1)
        self.attn = conv(dim, dim, 5, padding=2, groups=dim)
        self.norm2 = batch_norm(dim)
        self.mlp = RefLightMlp(dim, ndim=ndim)
        self.layer_scale = layer_scale
        if layer_scale is not None:  # the video ls_fp32 release: shape (1, C, 1, 1, 1)
            shape = (1, dim) + (1, ) * ndim
            self.gamma_1 = nn.Parameter(torch.full(shape, float(layer_scale)))
            self.gamma_2 = nn.Parameter(torch.full(shape, float(layer_scale)))

    def forward(self, x):
        x = x + self.pos_embed(x)
        local = self.conv2(self.attn(self.conv1(self.norm1(x))))
        if self.layer_scale is not None:
            local = self.gamma_1 * local
        x = x + local
        mixed = self.mlp(self.norm2(x))
        if self.layer_scale is not None:
            mixed = self.gamma_2 * mixed
        return x + mixed


class RefLightEvoBlock(nn.Module):
    """Global attention block of stages 3-4 with the light models' token pruning.

    ``forward(cls, x, scores, positions) -> (cls, x, scores, positions)``:
      cls        (B, 1, C)  the class token;
      x          (B, C, [T,] H, W) the full dense map (input and output);
      scores     (B, N) running importance of every patch token in raster order, or None before the first block;
      positions  (B, N) int64 original raster position of each token (arange(N) in and out).
    ``pool_scores`` (the last stage-3 block) 2x2-average-pools the output scores spatially, rescaled so that
    their per-sample sum is kept.
    """

    def __init__(self, dim, num_heads, ndim=2, prune_ratio=0.5, trade_off=0.5, pool_scores=False,
                 layer_scale=None):
        super().__init__()
        self.ndim = ndim
        self.pos_embed = _conv(ndim)(dim, dim, 3, padding=1, groups=dim)
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = RefLightAttention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = RefLightMlp(dim)
        self.prune_ratio = prune_ratio
        self.trade_off = trade_off
        self.pool_scores = pool_scores
        self.layer_scale = layer_scale
        if layer_scale is not None:  # the video ls_fp32 release: shape (C,), in every block; there is no gamma_3
            self.gamma_1 = nn.Parameter(torch.full((dim, ), float(layer_scale)))
            self.gamma_2 = nn.Parameter(torch.full((dim, ), float(layer_scale)))

    def _slow_path(self, seq):
        """seq + attention residual + MLP residual; also returns both raw residuals and the class-token row."""
        attended, cls_row = self.attn(self.norm1(seq))
        seq = seq + (attended if self.layer_scale is None else self.gamma_1 * attended)
        mixed = self.mlp(self.norm2(seq))
        seq = seq + (mixed if self.layer_scale is None else self.gamma_2 * mixed)
        return seq, attended, mixed, cls_row

    def forward(self, cls, x, scores, positions):
        x = x + self.pos_embed(x)  # on the full map, dropped tokens included
        shape = x.shape
        batch, dim = shape[0], shape[1]
        tokens = x.flatten(2).transpose(1, 2)  # B, N, C in raster order
        num_tokens = tokens.shape[1]
        t = self.trade_off

        if self.prune_ratio == 1:
            seq, _, _, cls_row = self._slow_path(torch.cat([cls, tokens], dim=1))
            # the first block sets the scores; an unpruned block with scores would blend all of them
            scores = cls_row if scores is None else (1 - t) * scores + t * cls_row
            cls, tokens = seq[:, :1], seq[:, 1:]
            return cls, tokens.transpose(1, 2).reshape(shape), scores, positions

        if scores is None:
            raise ValueError('a pruning block needs the scores set by an earlier (prune_ratio 1) block')
        if scores.shape[1] != num_tokens:
            raise ValueError(f'{scores.shape[1]} scores for {num_tokens} tokens')
        keep = int(num_tokens * self.prune_ratio)

        # Descending order of the running scores. The release uses torch.argsort(descending=True), which is not
        # stable; exact ties in the scores are the only place where a stable sort can keep different tokens.
        order = torch.sort(scores, dim=1, descending=True, stable=True).indices
        tokens = tokens.gather(1, order.unsqueeze(-1).expand(-1, -1, dim))
        scores = scores.gather(1, order)
        positions = positions.gather(1, order)

        kept, dropped = tokens[:, :keep], tokens[:, keep:]
        dropped_scores = scores[:, keep:]
        weights = dropped_scores / dropped_scores.sum(dim=1, keepdim=True)
        representative = (weights.unsqueeze(-1) * dropped).sum(dim=1, keepdim=True)

        seq, attended, mixed, cls_row = self._slow_path(torch.cat([cls, kept, representative], dim=1))

        # fast update: every dropped token gets the representative token's two residuals, without drop path
        if self.layer_scale is None:
            fast = attended[:, -1:] + mixed[:, -1:]
        else:
            fast = self.gamma_1 * attended[:, -1:] + self.gamma_2 * mixed[:, -1:]
        dropped = dropped + fast

        if num_tokens - keep == 1:
            # The release tells the cases apart by "len(scores) == attention length - 1", which in a pruning block
            # holds when exactly one token is dropped (N = 1 or 2 at ratio 0.5). It then blends every score with the
            # whole class-token row, so the single dropped token's score moves towards the rep token's column.
            scores = (1 - t) * scores + t * cls_row
        else:
            # only the kept tokens' scores move (cls_row[:, :-1] leaves out the rep token's column)
            scores = torch.cat([(1 - t) * scores[:, :keep] + t * cls_row[:, :-1], scores[:, keep:]], dim=1)

        cls = seq[:, :1]
        tokens = torch.cat([seq[:, 1:-1], dropped], dim=1)
        total = scores.sum(dim=1, keepdim=True)  # taken after the update, in sorted order, as the release

        restore = positions.argsort(dim=1)  # positions are unique: deterministic
        tokens = tokens.gather(1, restore.unsqueeze(-1).expand(-1, -1, dim))
        scores = scores.gather(1, restore)
        positions = positions.gather(1, restore)
        x = tokens.transpose(1, 2).reshape(shape)

        if self.pool_scores:
            grid = scores.reshape(batch, 1, *shape[2:])
            if self.ndim == 2:
                pooled = F.avg_pool2d(grid, kernel_size=2, stride=2)
            else:
                pooled = F.avg_pool3d(grid, kernel_size=(1, 2, 2), stride=(1, 2, 2))
            pooled = pooled.reshape(batch, -1)
            scores = pooled * (total / pooled.sum(dim=1, keepdim=True))
        return cls, x, scores, positions


class RefLightStem(nn.Module):
    """conv3x3/2 - BN - GELU - conv3x3/2 - BN (stride 4). Video: 3x3x3 kernels, strides (1,2,2) then (2,2,2)."""

    def __init__(self, dim, ndim=2, in_channels=3):
        super().__init__()
        conv, batch_norm = _conv(ndim), _batch_norm(ndim)
        first_stride = 2 if ndim == 2 else (1, 2, 2)
        self.proj = nn.Sequential(conv(in_channels, dim // 2, 3, first_stride, 1), batch_norm(dim // 2), nn.GELU(),
                                  conv(dim // 2, dim, 3, 2, 1), batch_norm(dim))

    def forward(self, x):
        return self.proj(x)


class RefLightPatchEmbed(nn.Module):
    """Conv 2x2/2 (video: 1x2x2 / (1,2,2)) followed by a channel LayerNorm (default eps 1e-5)."""

    def __init__(self, in_dim, dim, ndim=2):
        super().__init__()
        kernel = 2 if ndim == 2 else (1, 2, 2)
        self.norm = nn.LayerNorm(dim)  # registered before proj, as in the release (state-dict key order)
        self.proj = _conv(ndim)(in_dim, dim, kernel, kernel)

    def forward(self, x):
        return _channels_last_norm(self.norm, self.proj(x))


class RefLightUniFormer(nn.Module):
    """The official light UniFormer XXS / XS.

    Args:
        arch: 'xxs' or 'xs'.
        ndim: 2 for images (input (B, 3, H, W)), 3 for video (input (B, 3, T, H, W); T is halved by the stem).
        num_classes: classes of ``head`` and ``head_cls``; None means 1000 for images and 400 for video.
        dense: (images only) the detection / segmentation backbone: no ``norm``/``norm_cls``/``head``/``head_cls``,
            but ``norm1``..``norm4`` (LayerNorm eps 1e-6), and ``forward`` returns the 4 normed maps.
        layer_scale: (video only) initial value of the release's ls_fp32 gammas (0.1 in its configs), or None.

    ``forward``:
        classifier, eval:  head(mean over positions of BN(stage-4 map))
        classifier, train: (that, head_cls(LayerNorm(class token)))
        dense:             tuple of norm_i(stage-i map), strides 4, 8, 16, 32 (pruning active in both modes).
    ``forward_features`` returns (stage maps before any output norm, final class token (B, 1, C4), final running
    scores (B, N4), what the release leaves in its ``global_attn`` global).
    """

    def __init__(self, arch='xxs', ndim=2, num_classes=None, dense=False, layer_scale=None):
        super().__init__()
        if ndim not in (2, 3):
            raise ValueError(f'ndim must be 2 or 3, got {ndim}')
        if dense and ndim != 2:
            raise NotImplementedError('the release has dense light backbones for images only')
        if layer_scale is not None and ndim != 3:
            raise NotImplementedError('layer scale is only released for the video light model (ls_fp32); the image '
                                      'file has a different, never enabled variant (with gamma_3)')
        cfg = light_arch(arch)
        depths, dims, head_dim = cfg['depths'], cfg['dims'], cfg['head_dim']
        self.ndim, self.dense = ndim, dense
        stage3, stage4 = light_prune_schedule(depths)

        # registration order as in the release, so that the state-dict key order is the official one
        self.patch_embed1 = RefLightStem(dims[0], ndim)
        self.patch_embed2 = RefLightPatchEmbed(dims[0], dims[1], ndim)
        self.patch_embed3 = RefLightPatchEmbed(dims[1], dims[2], ndim)
        self.patch_embed4 = RefLightPatchEmbed(dims[2], dims[3], ndim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dims[2]))
        self.cls_upsample = nn.Linear(dims[2], dims[3])
        for stage in range(4):
            dim = dims[stage]
            if stage < 2:
                blocks = [RefLightCBlock(dim, ndim, layer_scale) for _ in range(depths[stage])]
            else:
                schedule = stage3 if stage == 2 else stage4
                blocks = [
                    RefLightEvoBlock(dim, dim // head_dim, ndim, prune_ratio=ratio, trade_off=trade_off,
                                     pool_scores=stage == 2 and i == depths[2] - 1, layer_scale=layer_scale)
                    for i, (ratio, trade_off) in enumerate(schedule)
                ]
            setattr(self, f'blocks{stage + 1}', nn.ModuleList(blocks))
            if dense:
                setattr(self, f'norm{stage + 1}', nn.LayerNorm(dim, eps=1e-6))
        if not dense:
            if num_classes is None:
                num_classes = 1000 if ndim == 2 else 400
            self.norm = _batch_norm(ndim)(dims[3])
            self.norm_cls = nn.LayerNorm(dims[3])
            self.head = nn.Linear(dims[3], num_classes)
            self.head_cls = nn.Linear(dims[3], num_classes)

    def forward_features(self, x):
        maps = []
        x = self.patch_embed1(x)
        for block in self.blocks1:
            x = block(x)
        maps.append(x)
        x = self.patch_embed2(x)
        for block in self.blocks2:
            x = block(x)
        maps.append(x)

        x = self.patch_embed3(x)
        batch = x.shape[0]
        cls = self.cls_token.expand(batch, -1, -1)
        scores = None  # set by the first stage-3 block
        positions = torch.arange(x[0, 0].numel(), device=x.device).unsqueeze(0).expand(batch, -1)
        for block in self.blocks3:
            cls, x, scores, positions = block(cls, x, scores, positions)
        maps.append(x)

        cls = self.cls_upsample(cls)
        x = self.patch_embed4(x)
        # positions restart at stage 4; the (pooled, rescaled) stage-3 scores are carried over
        positions = torch.arange(x[0, 0].numel(), device=x.device).unsqueeze(0).expand(batch, -1)
        for block in self.blocks4:
            cls, x, scores, positions = block(cls, x, scores, positions)
        maps.append(x)
        return tuple(maps), cls, scores

    def forward(self, x):
        maps, cls, _ = self.forward_features(x)
        if self.dense:
            return tuple(_channels_last_norm(getattr(self, f'norm{i + 1}'), m) for i, m in enumerate(maps))
        logits = self.head(self.norm(maps[-1]).flatten(2).mean(-1))
        if self.training:
            return logits, self.head_cls(self.norm_cls(cls).squeeze(1))
        return logits
