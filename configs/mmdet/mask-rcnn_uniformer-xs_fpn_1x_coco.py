# Mask R-CNN 1x, light UniFormer-XS (token pruning in stages 3-4, pruning active in training and test), COCO: the
# release's exp_light/mask_rcnn_1x_xs recipe, the S-h14 1x one with drop path 0.15, no gradient checkpointing and full
# precision, as the release ran it.
_base_ = './_base_/mask-rcnn_uniformer_fpn_1x_coco.py'

pretrained = 'uniformer_xs_224_in1k'

model = dict(
    backbone=dict(arch='xs', attn_mode='global', drop_path_rate=0.15, with_cp=False,
                  init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    neck=dict(in_channels=[64, 128, 256, 512]))
optim_wrapper = dict(type='OptimWrapper', _delete_=True,
                     optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
                     paramwise_cfg=dict(custom_keys=dict(norm=dict(decay_mult=0.))))
