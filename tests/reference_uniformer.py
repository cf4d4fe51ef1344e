"""An independent, deliberately plain re-statement of the official UniFormer models: the dense-prediction
backbone, the video backbone and the ImageNet classifiers (standard and token-labeling releases).

Used only as a test oracle: it follows the official release's model files (GitHub Sense-X/UniFormer) step by
step, with explicit softmax attention and window attention by looping over window slices, so it shares no code
path with the package. Its state-dict keys are the official ones.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


def naive_attention(tokens, qkv, proj, num_heads):
    batch, num_tokens, dim = tokens.shape
    head_dim = dim // num_heads
    q, k, v = qkv(tokens).split(dim, dim=-1)

    def heads(t):
        return t.reshape(batch, num_tokens, num_heads, head_dim).permute(0, 2, 1, 3)

    q, k, v = heads(q), heads(k), heads(v)
    weights = torch.softmax((q @ k.transpose(-2, -1)) * head_dim**-0.5, dim=-1)
    out = (weights @ v).permute(0, 2, 1, 3).reshape(batch, num_tokens, dim)
    return proj(out)


class RefAttention(nn.Module):

    def __init__(self, dim, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, tokens):
        return naive_attention(tokens, self.qkv, self.proj, self.num_heads)


CONV = {2: nn.Conv2d, 3: nn.Conv3d}


class RefMlp(nn.Module):

    def __init__(self, dim, conv, ndim=2):
        super().__init__()
        layer = (lambda i, o: CONV[ndim](i, o, 1)) if conv else nn.Linear
        self.fc1 = layer(dim, 4 * dim)
        self.fc2 = layer(4 * dim, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class RefCBlock(nn.Module):

    def __init__(self, dim, ndim=2, layer_scale=None):
        super().__init__()
        conv, batch_norm = CONV[ndim], {2: nn.BatchNorm2d, 3: nn.BatchNorm3d}[ndim]
        self.pos_embed = conv(dim, dim, 3, padding=1, groups=dim)
        self.norm1 = batch_norm(dim)
        self.conv1 = conv(dim, dim, 1)
        self.attn = conv(dim, dim, 5, padding=2, groups=dim)
        self.conv2 = conv(dim, dim, 1)
        self.norm2 = batch_norm(dim)
        self.mlp = RefMlp(dim, conv=True, ndim=ndim)
        self.layer_scale = layer_scale
        if layer_scale is not None:  # the token-labeling large_ls: one scale per channel, shape (1, C, 1, 1)
            self.gamma_1 = nn.Parameter(torch.full((1, dim, 1, 1), layer_scale))
            self.gamma_2 = nn.Parameter(torch.full((1, dim, 1, 1), layer_scale))

    def forward(self, x):
        x = x + self.pos_embed(x)
        if self.layer_scale is None:
            x = x + self.conv2(self.attn(self.conv1(self.norm1(x))))
            return x + self.mlp(self.norm2(x))
        x = x + self.gamma_1 * self.conv2(self.attn(self.conv1(self.norm1(x))))
        return x + self.gamma_2 * self.mlp(self.norm2(x))


class RefSABlock(nn.Module):

    def __init__(self, dim, num_heads, window_size=None, layer_scale=None):
        super().__init__()
        self.window_size = window_size
        self.pos_embed = nn.Conv2d(dim, dim, 3, padding=1, groups=dim)
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = RefAttention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = RefMlp(dim, conv=False)
        if layer_scale is not None:
            self.gamma_1 = nn.Parameter(torch.full((dim, ), layer_scale))
            self.gamma_2 = nn.Parameter(torch.full((dim, ), layer_scale))
        self.layer_scale = layer_scale

    def forward(self, x):
        x = x + self.pos_embed(x)
        batch, dim, height, width = x.shape
        grid = x.permute(0, 2, 3, 1)  # B, H, W, C
        normed = self.norm1(grid)
        if self.window_size is None:
            attended = self.attn(normed.reshape(batch, -1, dim)).reshape(batch, height, width, dim)
        else:
            size = self.window_size
            pad_h, pad_w = (size - height % size) % size, (size - width % size) % size
            padded = F.pad(normed, (0, 0, 0, pad_w, 0, pad_h))
            out = torch.empty_like(padded)
            for top in range(0, height + pad_h, size):
                for left in range(0, width + pad_w, size):
                    window = padded[:, top:top + size, left:left + size].reshape(batch, size * size, dim)
                    out[:, top:top + size, left:left + size] = self.attn(window).reshape(batch, size, size, dim)
            attended = out[:, :height, :width]
        if self.layer_scale is not None:
            attended = self.gamma_1 * attended
        grid = grid + attended
        mixed = self.mlp(self.norm2(grid))
        if self.layer_scale is not None:
            mixed = self.gamma_2 * mixed
        grid = grid + mixed
        return grid.permute(0, 3, 1, 2)


class RefPatchEmbed(nn.Module):

    def __init__(self, in_dim, dim, patch):
        super().__init__()
        self.proj = nn.Conv2d(in_dim, dim, patch, patch)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x):
        x = self.proj(x)
        return self.norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class RefUniFormer(nn.Module):
    """The official dense-prediction backbone: four stages, each output LayerNorm'ed (``norm1``..``norm4``)."""

    def __init__(self, depths, dims=(64, 128, 320, 512), head_dim=64, attn_mode='global', window_size=14,
                 layer_scale=None):
        super().__init__()
        for stage, (depth, dim) in enumerate(zip(depths, dims)):
            in_dim = 3 if stage == 0 else dims[stage - 1]
            setattr(self, f'patch_embed{stage + 1}', RefPatchEmbed(in_dim, dim, 4 if stage == 0 else 2))
            blocks = []
            for i in range(depth):
                if stage < 2:
                    blocks.append(RefCBlock(dim))
                    continue
                windowed = stage == 2 and (attn_mode == 'window' or (attn_mode == 'hybrid' and (i + 1) % 4))
                blocks.append(RefSABlock(dim, dim // head_dim, window_size if windowed else None, layer_scale))
            setattr(self, f'blocks{stage + 1}', nn.ModuleList(blocks))
            setattr(self, f'norm{stage + 1}', nn.LayerNorm(dim, eps=1e-6))

    def forward(self, x):
        outs = []
        for stage in range(1, 5):
            x = getattr(self, f'patch_embed{stage}')(x)
            for block in getattr(self, f'blocks{stage}'):
                x = block(x)
            outs.append(getattr(self, f'norm{stage}')(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2))
        return tuple(outs)


class RefVideoSABlock(nn.Module):
    """Joint spatio-temporal attention over all T*H*W tokens."""

    def __init__(self, dim, num_heads):
        super().__init__()
        self.pos_embed = nn.Conv3d(dim, dim, 3, padding=1, groups=dim)
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = RefAttention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = RefMlp(dim, conv=False)

    def forward(self, x):
        x = x + self.pos_embed(x)
        shape = x.shape
        tokens = x.flatten(2).transpose(1, 2)
        tokens = tokens + self.attn(self.norm1(tokens))
        tokens = tokens + self.mlp(self.norm2(tokens))
        return tokens.transpose(1, 2).reshape(shape)


class RefVideoPatchEmbed(nn.Module):

    def __init__(self, in_dim, dim, kernel, stride, padding):
        super().__init__()
        self.proj = nn.Conv3d(in_dim, dim, kernel, stride, padding)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x):
        x = self.proj(x)
        return self.norm(x.permute(0, 2, 3, 4, 1)).permute(0, 4, 1, 2, 3)


class RefUniFormer3D(nn.Module):
    """The official video backbone up to its final BatchNorm3d (``norm``), without the classifier."""

    def __init__(self, depths, dims=(64, 128, 320, 512), head_dim=64):
        super().__init__()
        for stage, (depth, dim) in enumerate(zip(depths, dims)):
            if stage == 0:
                embed = RefVideoPatchEmbed(3, dim, (3, 4, 4), (2, 4, 4), (1, 0, 0))
            else:
                embed = RefVideoPatchEmbed(dims[stage - 1], dim, (1, 2, 2), (1, 2, 2), 0)
            setattr(self, f'patch_embed{stage + 1}', embed)
            blocks = [RefCBlock(dim, ndim=3) if stage < 2 else RefVideoSABlock(dim, dim // head_dim)
                      for _ in range(depth)]
            setattr(self, f'blocks{stage + 1}', nn.ModuleList(blocks))
        self.norm = nn.BatchNorm3d(dims[-1])

    def forward(self, x):
        for stage in range(1, 5):
            x = getattr(self, f'patch_embed{stage}')(x)
            for block in getattr(self, f'blocks{stage}'):
                x = block(x)
        return self.norm(x)


class RefConvEmbed(nn.Module):
    """The overlapping embeddings of small_plus: stem conv-BN-GELU-conv-BN (stride 4), later conv-BN."""

    def __init__(self, in_dim, dim, stem):
        super().__init__()
        if stem:
            self.proj = nn.Sequential(nn.Conv2d(in_dim, dim // 2, 3, 2, 1), nn.BatchNorm2d(dim // 2), nn.GELU(),
                                      nn.Conv2d(dim // 2, dim, 3, 2, 1), nn.BatchNorm2d(dim))
        else:
            self.proj = nn.Sequential(nn.Conv2d(in_dim, dim, 3, 2, 1), nn.BatchNorm2d(dim))

    def forward(self, x):
        return self.proj(x)


class RefImageNetUniFormer(nn.Module):
    """The official ImageNet classifier: four stages, BatchNorm ``norm``, mean over tokens, Linear ``head``.

    With ``token_labeling`` it is the token-labeling release's model at test time: a second Linear
    ``aux_head`` on every token, and the output ``head(mean) + 0.5 * max over tokens of aux_head(tokens)``.
    """

    def __init__(self, depths, dims=(64, 128, 320, 512), head_dim=64, conv_stem=False, layer_scale=None,
                 local_layer_scale=False, num_classes=1000, token_labeling=False):
        super().__init__()
        for stage, (depth, dim) in enumerate(zip(depths, dims)):
            in_dim = 3 if stage == 0 else dims[stage - 1]
            embed = RefConvEmbed(in_dim, dim, stage == 0) if conv_stem else \
                RefPatchEmbed(in_dim, dim, 4 if stage == 0 else 2)
            setattr(self, f'patch_embed{stage + 1}', embed)
            blocks = [RefCBlock(dim, layer_scale=layer_scale if local_layer_scale else None) if stage < 2
                      else RefSABlock(dim, dim // head_dim, layer_scale=layer_scale) for _ in range(depth)]
            setattr(self, f'blocks{stage + 1}', nn.ModuleList(blocks))
        self.norm = nn.BatchNorm2d(dims[-1])
        self.head = nn.Linear(dims[-1], num_classes)
        self.token_labeling = token_labeling
        if token_labeling:
            self.aux_head = nn.Linear(dims[-1], num_classes)

    def forward(self, x):
        for stage in range(1, 5):
            x = getattr(self, f'patch_embed{stage}')(x)
            for block in getattr(self, f'blocks{stage}'):
                x = block(x)
        tokens = self.norm(x).flatten(2).transpose(1, 2)
        logits = self.head(tokens.mean(dim=1))
        if self.token_labeling:
            logits = logits + 0.5 * self.aux_head(tokens).max(dim=1)[0]
        return logits
