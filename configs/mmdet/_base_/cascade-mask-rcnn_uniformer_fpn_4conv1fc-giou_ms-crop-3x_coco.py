# Cascade Mask R-CNN 3x with multi-scale training on COCO with a UniFormer backbone: the reference recipe. mmdet's
# ConvNeXt cascade config carries the same heads (4conv1fc bbox heads with SyncBN and GIoU loss) and the same
# DETR-style augmentation; only the backbone, optimizer and warm-up differ. Each config sets the backbone's arch,
# attention mode, drop path, gradient checkpointing and ImageNet-1K checkpoint.
_base_ = 'mmdet::convnext/cascade-mask-rcnn_convnext-t-p4-w7_fpn_4conv1fc-giou_amp-ms-crop-3x_coco.py'

custom_imports = dict(imports=['uniformer_mm'], allow_failed_imports=False)

model = dict(
    backbone=dict(_delete_=True, type='UniFormer2D', window_size=14, out_indices=(0, 1, 2, 3)),
    neck=dict(in_channels=[64, 128, 320, 512]))

optim_wrapper = dict(
    _delete_=True,
    type='AmpOptimWrapper',
    loss_scale='dynamic',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(custom_keys=dict(norm=dict(decay_mult=0.))))

max_epochs = 36
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_epochs,
        by_epoch=True,
        milestones=[27, 33],
        gamma=0.1),
]
