# The Semantic FPN S-h14 recipe on the generated ADE20K-style toy-shapes set
# (tools/dataset_converters/generate_toy_dense.py), sized for a few minutes on 2 CPU cores. Only data, image size,
# schedule and CPU-specific switches differ from the real config; the backbone starts from random
# weights (no ImageNet checkpoint offline).
_base_ = '../fpn_uniformer-s-h14_8xb4-80k_ade20k-512x512.py'

data_root = 'data/toy_dense/ade/'
# Pixel value 0 is ADE20K's "unlabelled" (ignored through reduce_zero_label); 1-4 are these classes.
metainfo = dict(
    classes=('background', 'square', 'disc', 'triangle'),
    palette=[[120, 120, 120], [180, 120, 120], [6, 230, 230], [80, 50, 50]])
crop_size = (128, 128)

model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(init_cfg=None),
    decode_head=dict(num_classes=4))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='RandomResize', scale=(320, 160), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(320, 160), keep_ratio=True),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='PackSegInputs'),
]
dataset = dict(type='BaseSegDataset', data_root=data_root, metainfo=metainfo, img_suffix='.jpg',
               seg_map_suffix='.png', reduce_zero_label=True)
train_dataloader = dict(
    batch_size=8,
    num_workers=1,
    dataset=dict(
        **dataset,
        data_prefix=dict(img_path='images/training', seg_map_path='annotations/training'),
        pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=1,
    dataset=dict(
        **dataset,
        data_prefix=dict(img_path='images/validation', seg_map_path='annotations/validation'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader

max_iters = 240
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=20),
    dict(type='CosineAnnealingLR', T_max=max_iters, eta_min_ratio=1e-8, by_epoch=False, begin=0,
         end=max_iters),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=120, max_keep_ckpts=2))
