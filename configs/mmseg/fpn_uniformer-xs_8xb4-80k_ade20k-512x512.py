# Semantic FPN 80k, light UniFormer-XS (token pruning in stages 3-4), ADE20K 512x512: the release's exp_light/fpn_xs
# recipe, the S FPN one with drop path 0.1.
_base_ = './_base_/fpn_uniformer_8xb4-80k_ade20k-512x512.py'

pretrained = 'uniformer_xs_224_in1k'

model = dict(
    backbone=dict(arch='xs', attn_mode='global', drop_path_rate=0.1,
                  init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    neck=dict(in_channels=[64, 128, 256, 512]))
