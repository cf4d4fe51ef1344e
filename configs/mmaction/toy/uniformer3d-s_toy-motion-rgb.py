# The UniFormer-S 16x4 Kinetics recipe on the generated direction-of-motion clips
# (tools/dataset_converters/generate_toy_video.py):
# only the data, the image size (64x64), the classes and the schedule differ. Trains from scratch on the CPU
# (no ImageNet weights here) in a few minutes; mixed precision and mixup/cutmix are off on this tiny set.
_base_ = '../uniformer3d-s_in1k-pre_8xb8-16x4x1-200e_kinetics400-rgb.py'

data_root = 'data/toy_motion'

model = dict(backbone=dict(init_cfg=None), cls_head=dict(num_classes=2), data_preprocessor=dict(blending=None))

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

max_epochs = 6
warmup_epochs = 1
train_cfg = dict(max_epochs=max_epochs, val_interval=2)
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(lr=1e-3))
param_scheduler = dict(warmup_ratio=warmup_epochs / max_epochs)
default_hooks = dict(checkpoint=dict(interval=2, max_keep_ckpts=1), logger=dict(interval=5))
