# Fine-tuning on your own video classes, at toy size: the UniFormer-S 16x4 Kinetics-400 recipe, its backbone
# initialised from a converted Kinetics-400 checkpoint, on the generated direction-of-motion clips
# (tools/dataset_converters/generate_toy_video.py, mmaction2's rawframe layout). As README's "Fine-tune on your own
# videos" config, with the toy data: the head gets 2 classes (mixup / cutmix follow it), the CPU settings, a short
# schedule (the recipe's warm-up scales with it). Convert the checkpoint first:
#   python tools/convert_checkpoint.py slowfast-video uniformer_small_k400_16x8.pth checkpoints/uniformer3d-s_k400.pth
_base_ = '../uniformer3d-s_in1k-pre_8xb8-16x4x1-200e_kinetics400-rgb.py'

data_root = 'data/toy_motion'
# The backbone loads strictly and leaves the 400-class classifier out (the log says so); the new head starts
# from scratch.
model = dict(
    backbone=dict(init_cfg=dict(type='Pretrained', checkpoint='checkpoints/uniformer3d-s_k400.pth')),
    cls_head=dict(num_classes=2))

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
test_dataloader = val_dataloader

# Full precision (mixed precision needs a GPU), the recipe's AdamW at 1e-4, 6 epochs.
optim_wrapper = dict(type='OptimWrapper')
train_cfg = dict(max_epochs=6, val_interval=6)
default_hooks = dict(checkpoint=dict(interval=6, max_keep_ckpts=1), logger=dict(interval=5))
