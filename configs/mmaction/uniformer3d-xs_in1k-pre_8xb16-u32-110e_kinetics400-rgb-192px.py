# Light UniFormer-XS (token pruning in stages 3-4), 32 uniformly sampled frames at 192 px, Kinetics-400, from the
# inflated ImageNet-1K XS-192 weights: the release's video exp_light/xs32_192 recipe, its XXS one
# (_base_/uniformer3d-xxs_8xb32-110e_kinetics400-rgb-160px.py) with 8 GPUs x 16 clips, lr 4e-4, weight decay 0.05 and
# drop path 0.1.
_base_ = 'mmaction::_base_/default_runtime.py'

custom_imports = dict(
    imports=['uniformer_mm', 'uniformer_mm.models.heads.recognition', 'uniformer_mm.models.recognizers',
             'uniformer_mm.engine.schedulers'],
    allow_failed_imports=False)

pretrained = 'uniformer_xs_192_in1k'
model = dict(
    type='HeadClassesRecognizer3D',
    backbone=dict(
        type='UniFormer3D',
        arch='xs',
        with_cls_token=True,
        drop_path_rate=0.1,
        inflate='avg',
        init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    cls_head=dict(
        type='UniFormerLightHead', in_channels=512, num_classes=400, label_smooth_eps=0.1,
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
data_root = 'data/kinetics400/videos_train'
data_root_val = 'data/kinetics400/videos_val'
ann_file_train = 'data/kinetics400/kinetics400_train_list_videos.txt'
ann_file_val = 'data/kinetics400/kinetics400_val_list_videos.txt'

frames = 32
image_size = 192
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='UniformSample', clip_len=frames),
    dict(type='DecordDecode'),
    dict(type='RandomResizedCrop', area_range=(0.08, 1.0), aspect_ratio_range=(0.75, 1.3333)),
    dict(type='Resize', scale=(image_size, image_size), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(type='DecordInit'),
    dict(type='UniformSample', clip_len=frames, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, image_size)),
    dict(type='CenterCrop', crop_size=image_size),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
# Testing views: 1 crop x 1 clip, the validation pipeline.
test_pipeline = val_pipeline

train_dataloader = dict(
    batch_size=16,
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
# Testing: the validation loader, one video per batch.
test_dataloader = dict(val_dataloader, batch_size=1, dataset=dict(val_dataloader['dataset'], pipeline=test_pipeline))

val_evaluator = dict(type='AccMetric')
test_evaluator = val_evaluator

lr = 4e-4
max_epochs = 110
warmup_epochs = 10
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_begin=1, val_interval=10)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    type='AmpOptimWrapper',
    optimizer=dict(type='AdamW', lr=lr, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0., bias_decay_mult=0.),
    clip_grad=dict(max_norm=20))
# Linear warm-up then cosine; the warm-up is a share of the schedule, so a shorter train_cfg.max_epochs keeps
# it in proportion (uniformer_mm.engine.schedulers).
param_scheduler = dict(type='WarmupCosineLR', warmup_ratio=warmup_epochs / max_epochs, start_factor=1e-6 / lr,
                       eta_min=1e-6, by_epoch=True, convert_to_iter_based=True)

default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=3))
# The release trained with 8 GPUs x 16 clips.
auto_scale_lr = dict(enable=False, base_batch_size=128)
