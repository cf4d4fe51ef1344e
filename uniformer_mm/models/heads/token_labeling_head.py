"""The classifier head of the token-labeling ImageNet release."""
from typing import Optional, Tuple

import torch
import torch.nn as nn
from mmengine.registry import MODELS
from mmpretrain.models.heads import ClsHead


@MODELS.register_module()
class TokenLabelingClsHead(ClsHead):
    """Pooled linear classifier plus a dense one on every token, as the token-labeling release tests them.

    Takes the last backbone output, a (B, C, H, W) map (``UniFormer2D(out_norm='batch')``), with no neck. The
    class scores are ``fc(mean of the tokens) + aux_weight * max over tokens of aux_fc(token)``, the release's
    test-time output (its ``head`` and ``aux_head`` are ``fc`` and ``aux_fc`` here). Training uses the same
    scores against the image label: the release trained ``aux_fc`` on per-token label maps (token labeling),
    which this head does not reproduce, so use it to test and fine-tune the token-labeling checkpoints.

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Channels of the backbone's last output.
        aux_weight (float): Weight of the dense classifier's maximum. Defaults to 0.5, the release's.
        init_cfg (dict, optional): Initialisation. Defaults to truncated normal (std 0.02) for both layers,
            as the release initialises them.
        **kwargs: ``loss``, ``topk`` and ``cal_acc`` of mmpretrain's ``ClsHead``.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 aux_weight: float = 0.5,
                 init_cfg: Optional[dict] = dict(type='TruncNormal', layer='Linear', std=.02),
                 **kwargs) -> None:
        super().__init__(init_cfg=init_cfg, **kwargs)
        if num_classes <= 0:
            raise ValueError(f'num_classes must be a positive integer, got {num_classes}')
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.aux_weight = aux_weight
        self.fc = nn.Linear(in_channels, num_classes)
        self.aux_fc = nn.Linear(in_channels, num_classes)

    def pre_logits(self, feats: Tuple[torch.Tensor, ...]) -> torch.Tensor:
        """The tokens of the last feature map, (B, H * W, C)."""
        feature_map = feats[-1]
        if feature_map.dim() != 4 or feature_map.shape[1] != self.in_channels:
            raise ValueError(f'{type(self).__name__} expects a (B, {self.in_channels}, H, W) feature map '
                             f'(the backbone output, with no pooling neck), got shape {tuple(feature_map.shape)}')
        return feature_map.flatten(2).transpose(1, 2)

    def forward(self, feats: Tuple[torch.Tensor, ...]) -> torch.Tensor:
        tokens = self.pre_logits(feats)
        return self.fc(tokens.mean(dim=1)) + self.aux_weight * self.aux_fc(tokens).amax(dim=1)
