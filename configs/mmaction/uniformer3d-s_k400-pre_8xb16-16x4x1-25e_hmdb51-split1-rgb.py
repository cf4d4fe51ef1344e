# UniFormer-S 16x4 on HMDB51 (split 1), fine-tuned from the official Kinetics-400 16x4 checkpoint: the Kinetics-400
# 16x4 recipe with the release's fine-tuning schedule: 128 clips per step (16 per GPU x 8 GPUs), AdamW 5e-5, 5 warm-up
# epochs + cosine, 25 epochs; tested 3 crops x 5 clips at 224.
_base_ = 'mmaction::_base_/default_runtime.py'

custom_imports = dict(
    imports=['uniformer_mm', 'uniformer_mm.models.recognizers', 'uniformer_mm.engine.schedulers'],
    allow_failed_imports=False)

# The official Kinetics-400 release ({'model_state': ...}); its 400-class head is left unused.
pretrained = 'checkpoints/uniformer_small_k400_16x4.pth'
model = dict(
    type='HeadClassesRecognizer3D',
    backbone=dict(
        type='UniFormer3D',
        arch='small',
        drop_path_rate=0.1,
        inflate='avg',
        init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    cls_head=dict(
        type='I3DHead',
        in_channels=512,
        num_classes=51,
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
data_root = 'data/hmdb51/videos'
ann_file_train = 'data/hmdb51/hmdb51_train_split_1_videos.txt'
ann_file_val = 'data/hmdb51/hmdb51_val_split_1_videos.txt'

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
# Testing views: 3 crops x 5 clips at 224.
test_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=16, frame_interval=4, num_clips=5, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 224)),
    dict(type='ThreeCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]

train_dataloader = dict(
    batch_size=16,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type, ann_file=ann_file_train, data_prefix=dict(video=data_root), pipeline=train_pipeline))
# Validation: the training loader's workers, 8 clips per batch, unshuffled, on the validation videos.
val_dataloader = dict(
    train_dataloader,
    batch_size=8,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(train_dataloader['dataset'], ann_file=ann_file_val, data_prefix=dict(video=data_root),
                 pipeline=val_pipeline, test_mode=True))
# Testing: the validation loader, one video (15 views) per batch, with the testing pipeline.
test_dataloader = dict(val_dataloader, batch_size=1, dataset=dict(val_dataloader['dataset'], pipeline=test_pipeline))

val_evaluator = dict(type='AccMetric')
test_evaluator = val_evaluator

max_epochs = 25
warmup_epochs = 5
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

# No weight decay on 1-D parameters (norms, biases, layer scales), as the reference's ZERO_WD_1D_PARAM.
optim_wrapper = dict(
    type='AmpOptimWrapper',
    optimizer=dict(type='AdamW', lr=5e-5, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0., bias_decay_mult=0.),
    clip_grad=None)
# Linear warm-up then cosine; the warm-up is a share of the schedule, so a shorter train_cfg.max_epochs keeps
# it in proportion (uniformer_mm.engine.schedulers).
param_scheduler = dict(type='WarmupCosineLR', warmup_ratio=warmup_epochs / max_epochs, start_factor=1e-2,
                       eta_min=1e-6, by_epoch=True, convert_to_iter_based=True)

default_hooks = dict(checkpoint=dict(interval=5, max_keep_ckpts=3))
# The reference fine-tuned with 8 GPUs x 16 clips.
auto_scale_lr = dict(enable=False, base_batch_size=128)
