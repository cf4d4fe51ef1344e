# UniFormer-S with 16 uniformly sampled frames on Something-Something V1, fine-tuned from the official
# Kinetics-400 16x4 checkpoint (57.2 top-1 published, 3 crops x 1 clip): the Something-Something V2 recipe
# on V1's extracted frames (mmaction2's rawframe layout; V1 has the same 174 classes).
_base_ = './uniformer3d-s_k400-pre_8xb8-u16-200e_sthv2-rgb.py'

dataset_type = 'RawframeDataset'
data_root = 'data/sthv1/rawframes'
ann_file_train = 'data/sthv1/sthv1_train_list_rawframes.txt'
ann_file_val = 'data/sthv1/sthv1_val_list_rawframes.txt'
filename_tmpl = '{:05}.jpg'

train_pipeline = [
    dict(type='UniformSample', clip_len=16),
    dict(type='RawFrameDecode'),
    dict(type='RandomResizedCrop', area_range=(0.08, 1.0), aspect_ratio_range=(0.75, 1.3333)),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(type='UniformSample', clip_len=16, test_mode=True),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=256),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
# Testing views: 3 crops x 1 clip.
test_pipeline = [
    dict(type='UniformSample', clip_len=16, test_mode=True),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='ThreeCrop', crop_size=256),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_train,
        data_prefix=dict(img=data_root),
        filename_tmpl=filename_tmpl,
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_val,
        data_prefix=dict(img=data_root),
        filename_tmpl=filename_tmpl,
        pipeline=val_pipeline))
test_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_val,
        data_prefix=dict(img=data_root),
        filename_tmpl=filename_tmpl,
        pipeline=test_pipeline))
