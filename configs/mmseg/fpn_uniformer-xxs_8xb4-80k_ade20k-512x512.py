# Semantic FPN 80k, light UniFormer-XXS (token pruning in stages 3-4), ADE20K 512x512: the release's
# exp_light/fpn_xxs recipe, the S FPN one (PVT's: AdamW 2e-4, weight decay 1e-4, cosine, 32 images per step) with
# no stochastic depth (42.3 mIoU published).
_base_ = './fpn_uniformer-s-h14_8xb4-80k_ade20k-512x512.py'

pretrained = 'uniformer_xxs_224_in1k'
model = dict(
    backbone=dict(arch='xxs', attn_mode='global', drop_path_rate=0.,
                  init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    neck=dict(in_channels=[56, 112, 224, 448]))
