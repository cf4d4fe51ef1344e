# ImageNet-1K classification with a UniFormer backbone, token-labeling release, fine-tuned at 384:
# token_labeling/exp/uniformer_*_tl_384/run.sh. 8 GPUs x 64 images from the 224 model, constant lr 5e-6, weight decay
# 1e-8, no warm-up, no EMA, 60 epochs (run.sh asks for 50; its timm scheduler adds the 10 cool-down epochs, at the
# same lr here); test: bicubic resize to 384 / 0.9 (426), centre crop 384 (validate.py's crop_pct 0.9). The model,
# normalisation (mean = std = 0.5) and augmentation are those of _base_/uniformer-tl_8xb128_in1k.py. Fine-tuning
# starts from the converted 224 model (head included), e.g. python tools/convert_checkpoint.py imagenet
# uniformer_small_tl_224.pth checkpoints/uniformer-small-tl_in1k.pth \ --config
# configs/mmpretrain/uniformer-small-tl_8xb128_in1k.py then --cfg-options
# load_from=checkpoints/uniformer-small-tl_in1k.pth; testing a 384 release needs no load_from. Each config sets the
# backbone's arch and drop path, and its batch size where the release's run.sh changes it.
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

image_size = 384
bgr_mean = data_preprocessor['mean'][::-1]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=image_size, backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandAugment', policies='timm_increasing', num_policies=2, total_level=10, magnitude_level=9,
         magnitude_std=0.5, hparams=dict(pad_val=[round(x) for x in bgr_mean], interpolation='bicubic')),
    dict(type='RandomErasing', erase_prob=0.25, mode='rand', min_area_ratio=0.02, max_area_ratio=1 / 3,
         fill_color=bgr_mean, fill_std=data_preprocessor['std'][::-1]),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=426, edge='short', backend='pillow', interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=image_size),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=64, dataset=dict(pipeline=train_pipeline),
                        sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True))
val_dataloader = dict(batch_size=64, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

optim_wrapper = dict(type='AmpOptimWrapper', optimizer=dict(lr=5e-6, weight_decay=1e-8))
max_epochs = 60
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True, begin=0, end=max_epochs)]
train_cfg = dict(max_epochs=max_epochs)
custom_hooks = []
auto_scale_lr = dict(base_batch_size=512)
