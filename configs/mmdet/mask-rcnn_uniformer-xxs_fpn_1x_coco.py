# Mask R-CNN 1x, light UniFormer-XXS (token pruning in stages 3-4, pruning active in training and test), COCO: the
# release's exp_light/mask_rcnn_1x_xxs recipe, the S-h14 1x one with no stochastic depth, no gradient checkpointing
# and full precision, as the release ran it.
_base_ = './_base_/mask-rcnn_uniformer_fpn_1x_coco.py'

pretrained = 'uniformer_xxs_224_in1k'

model = dict(
    backbone=dict(arch='xxs', attn_mode='global', drop_path_rate=0., with_cp=False,
                  init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    neck=dict(in_channels=[56, 112, 224, 448]))
optim_wrapper = dict(type='OptimWrapper', _delete_=True,
                     optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
                     paramwise_cfg=dict(custom_keys=dict(norm=dict(decay_mult=0.))))
