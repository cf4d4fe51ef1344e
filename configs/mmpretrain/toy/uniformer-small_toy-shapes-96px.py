# Fine-tuning on your own classes, at toy size: UniFormer-S from the release's ImageNet checkpoint
# (uniformer_small_in1k, {'model': ...}, downloaded on first use; or a path) on a class-per-folder dataset,
# data/toy_classes (tools/dataset_converters/generate_toy_classes.py: 3 shapes, 96x96). For your own images,
# change data_root, num_classes and the image size; docs in docs/finetune.md "Fine-tune on your own classes".
_base_ = '../uniformer-small_8xb128_in1k.py'

data_root = 'data/toy_classes/'
num_classes = 3
image_size = 96

# Toy-sized regularisation: no stochastic depth, label smoothing, mixup or cutmix on a few hundred images.
model = dict(
    backbone=dict(drop_path_rate=0., init_cfg=dict(type='Pretrained', checkpoint='uniformer_small_in1k')),
    head=dict(num_classes=num_classes, loss=dict(_delete_=True, type='CrossEntropyLoss', loss_weight=1.0)),
    train_cfg=None)
data_preprocessor = dict(num_classes=num_classes)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=image_size, crop_ratio_range=(0.5, 1.0), backend='pillow',
         interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=image_size, edge='short', backend='pillow', interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=image_size),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=1,
    dataset=dict(_delete_=True, type='CustomDataset', data_root=data_root, data_prefix='train',
                 pipeline=train_pipeline),
    sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True))
val_dataloader = dict(
    batch_size=16,
    num_workers=1,
    dataset=dict(_delete_=True, type='CustomDataset', data_root=data_root, data_prefix='val',
                 pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_evaluator = val_evaluator

# The recipe's optimizer without mixed precision (AmpOptimWrapper needs a GPU), a short schedule.
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(lr=1e-3))
max_epochs = 16
param_scheduler = dict(warmup_ratio=1 / max_epochs, start_factor=0.01, eta_min=1e-6)
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
default_hooks = dict(logger=dict(interval=5), checkpoint=dict(interval=1, max_keep_ckpts=1))
