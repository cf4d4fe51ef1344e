# Semantic FPN 80k, light UniFormer-XXS (token pruning in stages 3-4), ADE20K 512x512: the release's exp_light/fpn_xxs
# recipe, the S FPN one with no stochastic depth.
_base_ = './_base_/fpn_uniformer_8xb4-80k_ade20k-512x512.py'

pretrained = 'uniformer_xxs_224_in1k'

model = dict(
    backbone=dict(arch='xxs', attn_mode='global', drop_path_rate=0.,
                  init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    neck=dict(in_channels=[56, 112, 224, 448]))
