# The top-down heatmap UniFormer-S recipe on the generated stick-figure COCO keypoints set
# (tools/dataset_converters/generate_toy_dense.py), sized for a few minutes on 2 CPU cores. Only data, input size,
# schedule and CPU-specific switches differ from the real config; the backbone starts from random
# weights (no ImageNet checkpoint offline).
_base_ = '../td-hm_uniformer-s_8xb128-210e_coco-256x192.py'

data_root = 'data/toy_dense/keypoints/'
codec = dict(type='MSRAHeatmap', input_size=(96, 128), heatmap_size=(24, 32), sigma=2)

model = dict(backbone=dict(init_cfg=None), head=dict(decoder=codec))

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomHalfBody'),
    dict(type='RandomBBoxTransform'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs'),
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs'),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=1,
    dataset=dict(
        data_root=data_root,
        ann_file='annotations/person_keypoints_train.json',
        data_prefix=dict(img='train/'),
        pipeline=train_pipeline))
# Evaluated on the ground-truth person boxes: the toy set has no detector results.
val_dataloader = dict(
    num_workers=1,
    dataset=dict(
        data_root=data_root,
        ann_file='annotations/person_keypoints_val.json',
        bbox_file=None,
        data_prefix=dict(img='val/'),
        pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/person_keypoints_val.json')
test_evaluator = val_evaluator

# Same optimizer without mixed precision (no CPU support in AmpOptimWrapper), short schedule.
optim_wrapper = dict(_delete_=True, type='OptimWrapper', optimizer={{_base_.optim_wrapper.optimizer}})
max_epochs = 12
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='LinearLR', begin=0, end=30, start_factor=0.001, by_epoch=False),
    dict(type='MultiStepLR', begin=0, end=max_epochs, milestones=[10], gamma=0.1, by_epoch=True),
]
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=1, max_keep_ckpts=2))
