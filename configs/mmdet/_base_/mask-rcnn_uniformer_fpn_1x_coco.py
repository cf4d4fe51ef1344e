# Mask R-CNN 1x on COCO with a UniFormer backbone: the reference recipe, 16 images per step (2 per GPU x 8 GPUs,
# inherited), mixed precision. Each config sets the backbone's arch, attention mode, drop path, gradient checkpointing
# and ImageNet-1K checkpoint, and the neck's input widths where they differ from S / B.
_base_ = 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py'

custom_imports = dict(imports=['uniformer_mm'], allow_failed_imports=False)

model = dict(
    backbone=dict(_delete_=True, type='UniFormer2D', window_size=14, out_indices=(0, 1, 2, 3)),
    neck=dict(in_channels=[64, 128, 320, 512]))

# AdamW without weight decay on any norm (the official recipe's 'norm' custom key), dynamic loss scaling.
optim_wrapper = dict(
    _delete_=True,
    type='AmpOptimWrapper',
    loss_scale='dynamic',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(custom_keys=dict(norm=dict(decay_mult=0.))))
