# The Mask R-CNN S-h14 recipe on the generated toy-shapes COCO set (tools/dataset_converters/generate_toy_dense.py),
# sized
# for a few minutes on 2 CPU cores. Only data, image size, schedule and CPU-specific switches differ
# from the real config; the backbone starts from random weights (no ImageNet checkpoint offline).
_base_ = '../mask-rcnn_uniformer-s-h14_fpn_1x_coco.py'

data_root = 'data/toy_dense/coco/'
metainfo = dict(classes=('square', 'disc', 'triangle'))
image_size = (160, 160)

model = dict(
    # Stage-3 windows of 14 need no memory saving at this size; checkpointing would only cost time.
    backbone=dict(with_cp=False, init_cfg=None),
    roi_head=dict(bbox_head=dict(num_classes=3), mask_head=dict(num_classes=3)),
    # 1-4 objects in a 160x160 image: fewer proposals and sampled RoIs than COCO's 512 per image, which
    # would make the RoI heads cost 20 times the backbone.
    train_cfg=dict(rpn_proposal=dict(max_per_img=300), rcnn=dict(sampler=dict(num=128))))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=image_size, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_size, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=1,
    dataset=dict(
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/instances_train.json',
        data_prefix=dict(img='train/'),
        pipeline=train_pipeline))
# Validation: the training loader's settings on the validation split.
val_dataloader = dict(
    batch_size=4,
    num_workers=1,
    dataset=dict(train_dataloader['dataset'], ann_file='annotations/instances_val.json', data_prefix=dict(img='val/'),
                 pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val.json')
test_evaluator = val_evaluator

# Same optimizer without mixed precision (no CPU support in AmpOptimWrapper); short warm-up and
# schedule, one checkpoint and evaluation per epoch.
optim_wrapper = dict(_delete_=True, type='OptimWrapper', optimizer={{_base_.optim_wrapper.optimizer}},
                     paramwise_cfg={{_base_.optim_wrapper.paramwise_cfg}})
max_epochs = 8
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=50),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[6], gamma=0.1),
]
default_hooks = dict(logger=dict(interval=8), checkpoint=dict(interval=1, max_keep_ckpts=2))
