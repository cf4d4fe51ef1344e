# Video recognition on Kinetics-600 with a UniFormer3D backbone initialised from inflated ImageNet-1K weights
# (averaged over time, the reference rule): the reference recipe. 8 GPUs x 8 clips, AdamW 1e-4, 30 warm-up + cosine,
# 200 epochs; training, validation and testing sample 16 frames every 4th, testing 1 crop x 4 clips. Not reproduced
# here: the reference's RandAugment and random erasing (they need extra packages). Each config sets the backbone's
# arch, drop path and ImageNet-1K checkpoint, and the frame sampling where it differs from 16x4.
_base_ = 'mmaction::_base_/default_runtime.py'

custom_imports = dict(
    imports=['uniformer_mm', 'uniformer_mm.models.recognizers', 'uniformer_mm.engine.schedulers'],
    allow_failed_imports=False)

model = dict(
    type='HeadClassesRecognizer3D',
    backbone=dict(type='UniFormer3D', inflate='avg'),
    cls_head=dict(
        type='I3DHead',
        in_channels=512,
        num_classes=600,
        dropout_ratio=0.5,
        label_smooth_eps=0.1,
        average_clips='prob'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[114.75, 114.75, 114.75],
        std=[57.375, 57.375, 57.375],
        format_shape='NCTHW',
        blending=dict(
            type='RandomBatchAugment',
            augments=[
                dict(type='MixupBlending', alpha=0.8),
                dict(type='CutmixBlending', alpha=1.0)
            ])))

dataset_type = 'VideoDataset'
data_root = 'data/kinetics600/videos_train'
data_root_val = 'data/kinetics600/videos_val'
ann_file_train = 'data/kinetics600/kinetics600_train_list_videos.txt'
ann_file_val = 'data/kinetics600/kinetics600_val_list_videos.txt'

train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=16, frame_interval=4, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='RandomResizedCrop', area_range=(0.08, 1.0), aspect_ratio_range=(0.75, 1.3333)),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=16, frame_interval=4, num_clips=1, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=256),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
# Testing views: 1 crop x 4 clips (the validation pipeline with 4 clips).
test_pipeline = [dict(step, num_clips=4) if step['type'] == 'SampleFrames' else step for step in val_pipeline]

train_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type, ann_file=ann_file_train, data_prefix=dict(video=data_root), pipeline=train_pipeline))
# Validation: the training loader's batch size and workers, unshuffled, on the validation videos.
val_dataloader = dict(
    train_dataloader,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(train_dataloader['dataset'], ann_file=ann_file_val, data_prefix=dict(video=data_root_val),
                 pipeline=val_pipeline, test_mode=True))
# Testing: the validation loader, one video (4 clips) per batch, with the testing pipeline.
test_dataloader = dict(val_dataloader, batch_size=1, dataset=dict(val_dataloader['dataset'], pipeline=test_pipeline))

val_evaluator = dict(type='AccMetric')
test_evaluator = val_evaluator

max_epochs = 200
warmup_epochs = 30
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_begin=1, val_interval=10)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

# No weight decay on 1-D parameters (norms, biases, layer scales), as the reference's ZERO_WD_1D_PARAM.
optim_wrapper = dict(
    type='AmpOptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0., bias_decay_mult=0.),
    clip_grad=None)
# Linear warm-up then cosine; the warm-up is a share of the schedule, so a shorter train_cfg.max_epochs keeps
# it in proportion (uniformer_mm.engine.schedulers).
param_scheduler = dict(type='WarmupCosineLR', warmup_ratio=warmup_epochs / max_epochs, start_factor=1e-2,
                       eta_min=1e-6, by_epoch=True, convert_to_iter_based=True)

default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=3))
# The reference trained with 8 GPUs x 8 clips.
auto_scale_lr = dict(enable=False, base_batch_size=64)
