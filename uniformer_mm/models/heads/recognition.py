"""mmaction2 head of the light UniFormer video models."""
from typing import Tuple

import torch
import torch.nn as nn
from mmaction.models.heads import BaseHead
from mmaction.utils import SampleList
from mmengine.model.weight_init import trunc_normal_
from mmengine.registry import MODELS


@MODELS.register_module()
class UniFormerLightHead(BaseHead):
    """The two classifiers of the light Kinetics models: one on the pooled last map, one on the class token.

    Takes ``UniFormer3D(arch='xxs' | 'xs' | 'xxs_ls', with_cls_token=True)``'s output, the (B, C, T, H, W) map and
    the (B, C) class token. Training weighs the two classifiers' losses ``1 - cls_weight`` and ``cls_weight``
    (0.5 / 0.5 in the release); the scores, at test and in prediction, are the pooled classifier's alone. The
    release has no dropout before them. ``fc_cls``, ``norm_token`` (LayerNorm, eps 1e-5) and ``fc_token`` are the
    release's ``head``, ``norm_cls`` and ``head_cls``.

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Channels of the map and the class token.
        cls_weight (float): Weight of the class-token classifier's loss. Defaults to 0.5.
        init_std (float): Std of the truncated normal initialisation of the linear layers. Defaults to 0.02.
        **kwargs: ``loss_cls``, ``label_smooth_eps``, ``topk``, ``average_clips`` ... of mmaction2's ``BaseHead``.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 cls_weight: float = 0.5,
                 init_std: float = 0.02,
                 **kwargs) -> None:
        super().__init__(num_classes, in_channels, **kwargs)
        if not 0 <= cls_weight <= 1:
            raise ValueError(f'cls_weight must be in [0, 1], got {cls_weight}')
        self.cls_weight = cls_weight
        self.init_std = init_std
        self.fc_cls = nn.Linear(in_channels, num_classes)
        self.norm_token = nn.LayerNorm(in_channels)
        self.fc_token = nn.Linear(in_channels, num_classes)

    def init_weights(self) -> None:
        for layer in (self.fc_cls, self.fc_token):
            trunc_normal_(layer.weight, std=self.init_std)
            nn.init.zeros_(layer.bias)

    def _pooled_and_token(self, feats: Tuple[torch.Tensor, torch.Tensor]) -> Tuple[torch.Tensor, torch.Tensor]:
        if not isinstance(feats, (tuple, list)) or len(feats) != 2 or feats[0].dim() != 5 or feats[1].dim() != 2:
            got = [tuple(f.shape) for f in feats] if isinstance(feats, (tuple, list)) else tuple(feats.shape)
            raise ValueError(f'{type(self).__name__} expects (map (B, C, T, H, W), class token (B, C)) from a light '
                             f'UniFormer3D with with_cls_token=True, got {got}')
        return feats[0].flatten(2).mean(dim=-1), feats[1]

    def forward(self, x: Tuple[torch.Tensor, torch.Tensor], **kwargs) -> torch.Tensor:
        return self.fc_cls(self._pooled_and_token(x)[0])

    def loss(self, feats: Tuple[torch.Tensor, torch.Tensor], data_samples: SampleList, **kwargs) -> dict:
        pooled, cls_token = self._pooled_and_token(feats)
        losses = self.loss_by_feat(self.fc_cls(pooled), data_samples)
        token_loss = self.loss_by_feat(self.fc_token(self.norm_token(cls_token)), data_samples)['loss_cls']
        losses['loss_cls'] = (1 - self.cls_weight) * losses['loss_cls'] + self.cls_weight * token_loss
        return losses
