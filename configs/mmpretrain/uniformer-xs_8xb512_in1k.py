# UniFormer-XS (light, token pruning) on ImageNet-1K at 224: the release's exp_light/xs_224/run.sh (main_light.py,
# DeiT-based): 600 epochs of 8 GPUs x 512 images, AdamW lr 5e-4 per 512 images (4e-3 here), weight decay 0.05 (none on
# norms, biases, other 1-D parameters and the class token), 30 linear warm-up epochs from 1e-6, cosine to 1e-5, drop
# path 0.1, mixup 0.8 / cutmix 1.0, label smoothing 0.1, RandAugment m9-mstd0.5, random erasing 0.25, no repeated
# augmentation, EMA 0.9999 (the run reported the better of model and EMA), full precision (the release warns against
# mixed precision for these models). Two classifiers, on the pooled map and on the class token, each with half the
# loss; the pooled one alone at test. Test: bicubic resize to 256, centre crop 224.
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs64_swin_224.py',
    'mmpretrain::_base_/schedules/imagenet_bs1024_adamw_swin.py',
    'mmpretrain::_base_/default_runtime.py',
]
custom_imports = dict(imports=['uniformer_mm', 'uniformer_mm.models.heads.classification'],
                      allow_failed_imports=False)

model = dict(
    type='ImageClassifier',
    backbone=dict(type='UniFormer2D', arch='xs', with_cls_token=True, out_indices=(3, ), out_norm='batch',
                  drop_path_rate=0.1),
    neck=None,
    head=dict(type='UniFormerLightClsHead', num_classes=1000, in_channels=512,
              loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1, mode='original')),
    train_cfg=dict(augments=[dict(type='Mixup', alpha=0.8), dict(type='CutMix', alpha=1.0)]))

train_dataloader = dict(batch_size=512, sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True))

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(lr=5e-4 * 4096 / 512),
    paramwise_cfg=dict(custom_keys={'cls_token': dict(decay_mult=0.)}))
max_epochs = 600
warmup_epochs = 30
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6 / 4e-3, by_epoch=True, end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True, begin=warmup_epochs),
]
train_cfg = dict(max_epochs=max_epochs)
custom_hooks = [dict(type='EMAHook', momentum=1e-4, evaluate_on_ema=True, evaluate_on_origin=True,
                     priority='ABOVE_NORMAL')]
auto_scale_lr = dict(base_batch_size=4096)
