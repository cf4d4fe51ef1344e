# UperNet 160k on ADE20K 512x512 with a UniFormer backbone: the reference recipe. Each config sets the backbone's
# arch, attention mode, drop path, gradient checkpointing and ImageNet-1K checkpoint.
_base_ = 'mmseg::upernet/upernet_r50_4xb4-160k_ade20k-512x512.py'

custom_imports = dict(imports=['uniformer_mm'], allow_failed_imports=False)

model = dict(
    # mmseg's segmentor would push a model-level `pretrained` into the backbone's init_cfg.
    pretrained=None,
    backbone=dict(_delete_=True, type='UniFormer2D', window_size=14, out_indices=(0, 1, 2, 3)),
    decode_head=dict(in_channels=[64, 128, 320, 512]),
    # The auxiliary FCN head on stage 3 (loss weight 0.4, inherited).
    auxiliary_head=dict(in_channels=320, in_index=2))

# 16 images per step (2 per GPU x 8 GPUs).
train_dataloader = dict(batch_size=2)

# AdamW without weight decay on any norm, 1500 linear warm-up iterations from 1e-6, then poly (power 1) decay to 0.
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=6e-5, betas=(0.9, 0.999), weight_decay=0.01),
    paramwise_cfg=dict(custom_keys=dict(norm=dict(decay_mult=0.))))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),
    dict(type='PolyLR', power=1.0, eta_min=0.0, by_epoch=False, begin=1500, end=160000),
]
