# UniFormer-B with 32 uniformly sampled frames on Something-Something V1, fine-tuned from the
# official Kinetics-400 16x4 checkpoint (60.9 top-1 published, 3 crops x 1 clip): the 16-frame recipe with 32 frames.
_base_ = './uniformer3d-b_k400-pre_8xb8-u16-200e_sthv1-rgb.py'

train_pipeline = [
    dict(type='UniformSample', clip_len=32),
    dict(type='RawFrameDecode'),
    dict(type='RandomResizedCrop', area_range=(0.08, 1.0), aspect_ratio_range=(0.75, 1.3333)),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(type='UniformSample', clip_len=32, test_mode=True),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=256),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
# Testing views: 3 crops x 1 clip.
test_pipeline = [
    dict(type='UniformSample', clip_len=32, test_mode=True),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='ThreeCrop', crop_size=256),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
