# ImageNet-1K classification at 224 with a UniFormer backbone and a linear head: the reference release's
# exp/uniformer_*/run.sh recipe (its DeiT-based main.py) as uniformer_small ran it: 300 epochs of 8 GPUs x 128 images,
# AdamW lr 5e-4 per 512 images (1e-3 here), weight decay 0.05 (none on norms, biases and other 1-D parameters), 5
# linear warm-up epochs from 1e-6, cosine to 1e-5, mixup 0.8 / cutmix 1.0, label smoothing 0.1, RandAugment
# m9-mstd0.5, random erasing 0.25, repeated augmentation, mixed precision. Test: bicubic resize to 256, centre crop
# 224. The release's main.py also keeps an EMA copy (0.99996) that it neither evaluates nor publishes (the released
# files hold the model's own weights), so there is no EMAHook. Each config sets the backbone's arch and drop path, and
# its learning rate where the release's run.sh changes it.
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs64_swin_224.py',
    'mmpretrain::_base_/schedules/imagenet_bs1024_adamw_swin.py',
    'mmpretrain::_base_/default_runtime.py',
]
custom_imports = dict(
    imports=['uniformer_mm', 'uniformer_mm.models.heads.classification', 'uniformer_mm.engine.schedulers'],
    allow_failed_imports=False)

model = dict(
    type='ImageClassifier',
    backbone=dict(type='UniFormer2D', out_indices=(3, ), out_norm='batch'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=512,
        loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
        init_cfg=dict(type='TruncNormal', layer='Linear', std=.02)),
    train_cfg=dict(augments=[dict(type='Mixup', alpha=0.8), dict(type='CutMix', alpha=1.0)]))

train_dataloader = dict(batch_size=128, sampler=dict(_delete_=True, type='RepeatAugSampler', shuffle=True))

optim_wrapper = dict(type='AmpOptimWrapper', optimizer=dict(lr=5e-4 * 1024 / 512))
max_epochs = 300
warmup_epochs = 5
# Linear warm-up then cosine to the end of training; the warm-up is a share of the schedule, so a fine-tune with a
# shorter train_cfg.max_epochs keeps it in proportion (uniformer_mm.engine.schedulers).
param_scheduler = dict(_delete_=True, type='WarmupCosineLR', warmup_ratio=warmup_epochs / max_epochs,
                       start_factor=1e-6 / 1e-3, eta_min=1e-5, by_epoch=True, convert_to_iter_based=True)
train_cfg = dict(max_epochs=max_epochs)
# A checkpoint every epoch (mmpretrain's default), the last three kept: each S checkpoint is about 250 MB.
default_hooks = dict(checkpoint=dict(max_keep_ckpts=3))
auto_scale_lr = dict(base_batch_size=1024)
