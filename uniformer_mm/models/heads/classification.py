"""mmpretrain heads of the UniFormer ImageNet releases: token labeling and the light models' two heads."""
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.registry import MODELS
from mmpretrain.models.heads import ClsHead
from mmpretrain.structures import DataSample


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


@MODELS.register_module()
class UniFormerLightClsHead(ClsHead):
    """The two classifiers of the light ImageNet models: one on the pooled last map, one on the
    class token of the token-pruning stages.

    Takes ``UniFormer2D(arch='xxs' | 'xs', out_norm='batch', with_cls_token=True)``'s outputs, the (B, C, H, W)
    map and the (B, C) class token, with no neck. Training weighs the two classifiers' losses ``1 - cls_weight``
    and ``cls_weight`` (0.5 / 0.5 in the release); the scores, at test and in prediction, are the pooled
    classifier's alone. ``fc``, ``norm_token`` (LayerNorm, eps 1e-5) and ``fc_token`` are the release's
    ``head``, ``norm_cls`` and ``head_cls``.

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Channels of the map and the class token.
        cls_weight (float): Weight of the class-token classifier's loss. Defaults to 0.5.
        init_cfg (dict, optional): Initialisation. Defaults to truncated normal (std 0.02) for the linear layers.
        **kwargs: ``loss``, ``topk`` and ``cal_acc`` of mmpretrain's ``ClsHead``.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 cls_weight: float = 0.5,
                 init_cfg: Optional[dict] = dict(type='TruncNormal', layer='Linear', std=.02),
                 **kwargs) -> None:
        super().__init__(init_cfg=init_cfg, **kwargs)
        if num_classes <= 0:
            raise ValueError(f'num_classes must be a positive integer, got {num_classes}')
        if not 0 <= cls_weight <= 1:
            raise ValueError(f'cls_weight must be in [0, 1], got {cls_weight}')
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.cls_weight = cls_weight
        self.fc = nn.Linear(in_channels, num_classes)
        self.norm_token = nn.LayerNorm(in_channels)
        self.fc_token = nn.Linear(in_channels, num_classes)

    def pre_logits(self, feats: Tuple[torch.Tensor, ...]) -> Tuple[torch.Tensor, torch.Tensor]:
        """The pooled map (B, C) and the class token (B, C)."""
        if len(feats) < 2 or feats[-2].dim() != 4 or feats[-1].dim() != 2:
            shapes = [tuple(f.shape) for f in feats]
            raise ValueError(f'{type(self).__name__} expects the backbone outputs (map (B, C, H, W), class token '
                             f'(B, C)) of a light UniFormer2D with with_cls_token=True and no neck, got {shapes}')
        return feats[-2].flatten(2).mean(dim=-1), feats[-1]

    def forward(self, feats: Tuple[torch.Tensor, ...]) -> torch.Tensor:
        return self.fc(self.pre_logits(feats)[0])

    def loss(self, feats: Tuple[torch.Tensor, ...], data_samples: List[DataSample], **kwargs) -> dict:
        pooled, cls_token = self.pre_logits(feats)
        losses = self._get_loss(self.fc(pooled), data_samples, **kwargs)
        token_loss = self._get_loss(self.fc_token(self.norm_token(cls_token)), data_samples, **kwargs)['loss']
        losses['loss'] = (1 - self.cls_weight) * losses['loss'] + self.cls_weight * token_loss
        return losses
