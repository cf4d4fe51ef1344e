# Light UniFormer-XXS (token pruning in stages 3-4), 16 uniformly sampled frames at 160 px, Kinetics-400, from the
# inflated ImageNet-1K XXS-160 weights: the release's video exp_light/xxs16_160 recipe (75.1 top-1 published, 1
# crop x 1 clip). 8 GPUs x 32 clips, AdamW 8e-4 with weight decay 0.1 (none on norms and biases), 10 warm-up
# epochs from 1e-6 then cosine to 1e-6 over 110 epochs, drop path 0.05, gradient clipping 20, mixup 0.8 / cutmix
# 1.0, label smoothing 0.1, mixed precision (the attention and the token ranking run in float32 regardless).
# Two classifiers (pooled map, class token), half the loss each; the pooled one at test. Not reproduced: the
# release's repeated augmentation (2 samples per video), RandAugment and random erasing.
_base_ = './uniformer3d-s_in1k-pre_8xb8-16x4x1-200e_kinetics400-rgb.py'

custom_imports = dict(imports=['uniformer_mm', 'uniformer_mm.models.heads.recognition'], allow_failed_imports=False)

pretrained = 'uniformer_xxs_160_in1k'
frames = 16
image_size = 160
model = dict(
    backbone=dict(arch='xxs', with_cls_token=True, drop_path_rate=0.05, init_cfg=dict(checkpoint=pretrained)),
    cls_head=dict(_delete_=True, type='UniFormerLightHead', in_channels=448, num_classes=400, label_smooth_eps=0.1,
                  average_clips='prob'))

train_pipeline = [
    dict(type='DecordInit'),
    dict(type='UniformSample', clip_len=frames),
    dict(type='DecordDecode'),
    dict(type='RandomResizedCrop', area_range=(0.08, 1.0), aspect_ratio_range=(0.75, 1.3333)),
    dict(type='Resize', scale=(image_size, image_size), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(type='DecordInit'),
    dict(type='UniformSample', clip_len=frames, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, image_size)),
    dict(type='CenterCrop', crop_size=image_size),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
train_dataloader = dict(batch_size=32, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=32, dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=val_pipeline))

lr = 8e-4
max_epochs = 110
warmup_epochs = 10
train_cfg = dict(max_epochs=max_epochs)
optim_wrapper = dict(optimizer=dict(lr=lr, weight_decay=0.1), clip_grad=dict(_delete_=True, max_norm=20))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6 / lr, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, eta_min=1e-6, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True)
]
auto_scale_lr = dict(base_batch_size=256)
