# The UniFormer-S 16x4 Kinetics-400 recipe with its data replaced by the generated direction-of-motion clips
# (tools/dataset_converters/generate_toy_video.py, mmaction2's rawframe layout): 16 frames resized to 64x64, the
# recipe's sampling and augmentation otherwise, CPU data loading. The toy configs in ../toy/ build on it.
_base_ = '../uniformer3d-s_in1k-pre_8xb8-16x4x1-200e_kinetics400-rgb.py'

data_root = 'data/toy_motion'

train_pipeline = [
    dict(type='SampleFrames', clip_len=16, frame_interval=1, num_clips=1),
    dict(type='RawFrameDecode'),
    dict(type='RandomResizedCrop', area_range=(0.6, 1.0), aspect_ratio_range=(0.75, 1.3333)),
    dict(type='Resize', scale=(64, 64), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
test_pipeline = [
    dict(type='SampleFrames', clip_len=16, frame_interval=1, num_clips=1, test_mode=True),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(64, 64), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
toy_dataset = dict(type='RawframeDataset', data_prefix=dict(img=f'{data_root}/rawframes'))
# On a CPU: no worker processes, 8 clips a step.
train_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(toy_dataset, ann_file=f'{data_root}/train.txt', pipeline=train_pipeline, _delete_=True))
val_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(toy_dataset, ann_file=f'{data_root}/val.txt', pipeline=test_pipeline, test_mode=True,
                 _delete_=True))
# `mim test ... --cfg-options test_dataloader.dataset.ann_file=data/toy_motion/val_shuffled.txt` tests on
# the same clips with their frames shuffled.
test_dataloader = val_dataloader
