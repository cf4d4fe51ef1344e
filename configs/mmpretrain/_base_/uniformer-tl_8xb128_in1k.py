# ImageNet-1K classification at 224 with a UniFormer backbone, token-labeling release:
# token_labeling/exp/uniformer_*_tl_224/run.sh. Its model adds a dense classifier on every stage-4 token
# (TokenLabelingClsHead), and it was trained with per-token label maps from a teacher (token labeling) and MixToken,
# which cannot be reproduced here: these configs test the released checkpoints and fine-tune from them (the head then
# learns from image labels). The rest is the run's recipe (its timm-based main.py): 300 epochs + 10 cool-down at the
# minimum lr, 8 GPUs x 128 images, AdamW lr 1.6e-3 (not scaled), weight decay 0.05 (none on 1-D parameters), 5 warm-up
# epochs from 1e-6, cosine to 1e-5, label smoothing 0.1, RandAugment m9-mstd0.5, random erasing 0.25, EMA 0.99992,
# mixed precision, no mixup / cutmix. Test: bicubic resize to 224 / 0.9, centre crop (timm's crop_pct 0.9), both the
# model and its EMA evaluated as the run did. Normalisation: the token-labeling models take timm's ViT default config,
# which in the timm the release pins (0.4.12) is mean = std = 0.5, not ImageNet's mean and std of the standard release
# (users report wrong predictions of these checkpoints with the latter, Sense-X/UniFormer issue 25). The release does
# not state it. Each config sets the backbone's arch and drop path, and its learning rate where the release's run.sh
# changes it.
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs64_swin_224.py',
    'mmpretrain::_base_/schedules/imagenet_bs1024_adamw_swin.py',
    'mmpretrain::_base_/default_runtime.py',
]
custom_imports = dict(imports=['uniformer_mm', 'uniformer_mm.models.heads.classification'],
                      allow_failed_imports=False)

data_preprocessor = dict(mean=[127.5, 127.5, 127.5], std=[127.5, 127.5, 127.5])

model = dict(
    type='ImageClassifier',
    backbone=dict(type='UniFormer2D', out_indices=(3, ), out_norm='batch'),
    neck=None,
    head=dict(type='TokenLabelingClsHead', num_classes=1000, in_channels=512, aux_weight=0.5,
              loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1, mode='original')),
    train_cfg=None)

# RandAugment's padding and random erasing's fill follow the normalisation.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224, backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandAugment', policies='timm_increasing', num_policies=2, total_level=10, magnitude_level=9,
         magnitude_std=0.5, hparams=dict(pad_val=[128, 128, 128], interpolation='bicubic')),
    dict(type='RandomErasing', erase_prob=0.25, mode='rand', min_area_ratio=0.02, max_area_ratio=1 / 3,
         fill_color=[127.5, 127.5, 127.5], fill_std=[127.5, 127.5, 127.5]),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=248, edge='short', backend='pillow', interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=128, dataset=dict(pipeline=train_pipeline),
                        sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

optim_wrapper = dict(type='AmpOptimWrapper', optimizer=dict(lr=1.6e-3))
max_epochs = 310
warmup_epochs = 5
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6 / 1.6e-3, by_epoch=True, end=warmup_epochs, convert_to_iter_based=True),
    # Cosine until epoch 300, then the 10 cool-down epochs at eta_min.
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True, begin=warmup_epochs, end=300, T_max=295),
]
train_cfg = dict(max_epochs=max_epochs)
custom_hooks = [dict(type='EMAHook', momentum=8e-5, evaluate_on_ema=True, evaluate_on_origin=True,
                     priority='ABOVE_NORMAL')]
auto_scale_lr = dict(base_batch_size=1024)
