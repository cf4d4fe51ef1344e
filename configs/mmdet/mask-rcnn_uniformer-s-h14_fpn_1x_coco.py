# Mask R-CNN 1x, UniFormer-S with hybrid stage 3 (window 14), COCO: the reference recipe
# (45.6 box AP / 41.6 mask AP published). 16 images per step (2 per GPU x 8 GPUs), mixed precision.
_base_ = 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py'

custom_imports = dict(imports=['uniformer_mm'], allow_failed_imports=False)

# The official ImageNet-1K UniFormer-S checkpoint, by its name in uniformer_mm.checkpoint_sources:
# downloaded from the release's Hugging Face repo on first use (or give a local path).
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

# AdamW without weight decay on any norm (the official recipe's 'norm' custom key), dynamic loss scaling.
optim_wrapper = dict(
    _delete_=True,
    type='AmpOptimWrapper',
    loss_scale='dynamic',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(custom_keys=dict(norm=dict(decay_mult=0.))))
