# Cascade Mask R-CNN 3x with multi-scale training, UniFormer-S hybrid-14, COCO: the reference recipe
# (52.1 box AP / 45.2 mask AP published). mmdet's ConvNeXt cascade config carries the same heads
# (4conv1fc bbox heads with SyncBN and GIoU loss) and the same DETR-style augmentation; only the
# backbone, optimizer and warm-up differ.
_base_ = 'mmdet::convnext/cascade-mask-rcnn_convnext-t-p4-w7_fpn_4conv1fc-giou_amp-ms-crop-3x_coco.py'

custom_imports = dict(imports=['uniformer_mm'], allow_failed_imports=False)

# The official ImageNet-1K checkpoint, by its name in uniformer_mm.checkpoint_sources: downloaded from the
# release's Hugging Face repo on first use (or give a local path).
pretrained = 'uniformer_small_in1k'

model = dict(
    backbone=dict(
        _delete_=True,
        type='UniFormer2D',
        arch='small',
        attn_mode='hybrid',
        window_size=14,
        drop_path_rate=0.2,
        out_indices=(0, 1, 2, 3),
        with_cp=(0, 0, 8, 0),
        init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
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
