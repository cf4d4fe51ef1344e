# UniFormer-S with 16 uniformly sampled frames on Something-Something V2, fine-tuned from
# the official Kinetics-400 16x4 checkpoint (67.7 top-1 published, 3 crops x 1 clip).
# No flipping: SSv2 labels such as "left to right" depend on direction.
_base_ = './uniformer3d-s_in1k-pre_8xb8-16x4x1-200e_kinetics400-rgb.py'

num_classes = 174
# The official Kinetics-400 release ({'model_state': ...}); its 400-class head is left unused.
pretrained = 'checkpoints/uniformer_small_k400_16x4.pth'
model = dict(
    backbone=dict(init_cfg=dict(checkpoint=pretrained)),
    cls_head=dict(num_classes=num_classes),
    data_preprocessor=dict(blending=dict(augments=[
        dict(augment, num_classes=num_classes) for augment in _base_.model.data_preprocessor.blending.augments])))

data_root = 'data/sthv2/videos'
ann_file_train = 'data/sthv2/sthv2_train_list_videos.txt'
ann_file_val = 'data/sthv2/sthv2_val_list_videos.txt'

train_pipeline = [
    dict(type='DecordInit'),
    dict(type='UniformSample', clip_len=16),
    dict(type='DecordDecode'),
    dict(type='RandomResizedCrop', area_range=(0.08, 1.0), aspect_ratio_range=(0.75, 1.3333)),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(type='DecordInit'),
    dict(type='UniformSample', clip_len=16, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=256),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
# Testing views: 3 crops x 1 clip (the validation pipeline with three crops).
test_pipeline = [dict(step, type='ThreeCrop') if step['type'] == 'CenterCrop' else step for step in val_pipeline]
train_dataloader = dict(
    dataset=dict(ann_file=ann_file_train, data_prefix=dict(video=data_root), pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(ann_file=ann_file_val, data_prefix=dict(video=data_root), pipeline=val_pipeline))
test_dataloader = dict(
    dataset=dict(ann_file=ann_file_val, data_prefix=dict(video=data_root), pipeline=test_pipeline))
