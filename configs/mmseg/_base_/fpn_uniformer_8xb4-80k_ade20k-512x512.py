# Semantic FPN 80k on ADE20K 512x512 with a UniFormer backbone: the reference recipe, which follows PVT. Each config
# sets the backbone's arch, attention mode, drop path and ImageNet-1K checkpoint, and the neck's input widths where
# they differ from S / B.
_base_ = 'mmseg::sem_fpn/fpn_r50_4xb4-160k_ade20k-512x512.py'

custom_imports = dict(imports=['uniformer_mm'], allow_failed_imports=False)

model = dict(
    # mmseg's segmentor would push a model-level `pretrained` into the backbone's init_cfg.
    pretrained=None,
    backbone=dict(_delete_=True, type='UniFormer2D', window_size=14, out_indices=(0, 1, 2, 3)),
    neck=dict(in_channels=[64, 128, 320, 512]))

# 32 images per step (4 per GPU x 8 GPUs, inherited). AdamW (weight decay 1e-4 on every parameter, as PVT's
# recipe), 1000 linear warm-up iterations from 0.1x, cosine decay to 1e-8x over 80k iterations.
max_iters = 80000
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=2e-4, betas=(0.9, 0.999), weight_decay=1e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=1000),
    dict(
        type='CosineAnnealingLR',
        T_max=max_iters,
        eta_min_ratio=1e-8,
        by_epoch=False,
        begin=0,
        end=max_iters),
]
train_cfg = dict(max_iters=max_iters, val_interval=8000)
default_hooks = dict(checkpoint=dict(interval=8000))
