# Semantic FPN 80k, light UniFormer-XS, ADE20K 512x512: exp_light/fpn_xs, the XXS recipe with drop path 0.1
# (44.4 mIoU published).
_base_ = './fpn_uniformer-xxs_8xb4-80k_ade20k-512x512.py'

pretrained = 'uniformer_xs_224_in1k'
model = dict(
    backbone=dict(arch='xs', drop_path_rate=0.1, init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    neck=dict(in_channels=[64, 128, 256, 512]))
