# UniFormer-XXS (light, token pruning) on ImageNet-1K at 224: the release's exp_light/xxs_224/run.sh (main_light.py,
# DeiT-based): 600 epochs of 8 GPUs x 512 images, AdamW lr 4e-4 per 512 images (3.2e-3 here), weight decay 0.1 (none
# on norms, biases, other 1-D parameters and the class token), 30 linear warm-up epochs from 1e-6, cosine to 1e-5, no
# drop path, mixup 0.8 / cutmix 1.0, label smoothing 0.1, AutoAugment (the run's timm policy 'v0'; mmpretrain's
# ImageNet AutoAugment policy stands in for it), random erasing 0.25, no repeated augmentation, EMA 0.9999 (the run
# reported the better of model and EMA), full precision (the release warns against mixed precision for these models).
# Two classifiers, on the pooled map and on the class token, each with half the loss; the pooled one alone at test.
# Test: bicubic resize to 256, centre crop 224.
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs64_swin_224.py',
    'mmpretrain::_base_/schedules/imagenet_bs1024_adamw_swin.py',
    'mmpretrain::_base_/default_runtime.py',
]
custom_imports = dict(imports=['uniformer_mm', 'uniformer_mm.models.heads.classification'],
                      allow_failed_imports=False)

model = dict(
    type='ImageClassifier',
    backbone=dict(type='UniFormer2D', arch='xxs', with_cls_token=True, out_indices=(3, ), out_norm='batch',
                  drop_path_rate=0.),
    neck=None,
    head=dict(type='UniFormerLightClsHead', num_classes=1000, in_channels=448,
              loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1, mode='original')),
    train_cfg=dict(augments=[dict(type='Mixup', alpha=0.8), dict(type='CutMix', alpha=1.0)]))

bgr_mean = _base_.data_preprocessor.mean[::-1]
train_pipeline = [
    dict(type='AutoAugment', policies='imagenet',
         hparams=dict(pad_val=[round(x) for x in bgr_mean], interpolation='bicubic'))
    if t['type'] == 'RandAugment' else t for t in _base_.train_pipeline
]
train_dataloader = dict(batch_size=512, dataset=dict(pipeline=train_pipeline),
                        sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True))

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(lr=4e-4 * 4096 / 512, weight_decay=0.1),
    paramwise_cfg=dict(custom_keys={'cls_token': dict(decay_mult=0.)}))
max_epochs = 600
warmup_epochs = 30
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6 / 3.2e-3, by_epoch=True, end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True, begin=warmup_epochs),
]
train_cfg = dict(max_epochs=max_epochs)
custom_hooks = [dict(type='EMAHook', momentum=1e-4, evaluate_on_ema=True, evaluate_on_origin=True,
                     priority='ABOVE_NORMAL')]
auto_scale_lr = dict(base_batch_size=4096)
