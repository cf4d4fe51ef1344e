# Video recognition on Something-Something V1 with a UniFormer3D backbone fine-tuned from an official Kinetics
# checkpoint: the reference recipe (the Kinetics one: 8 GPUs x 8 clips, AdamW 1e-4, 30 warm-up + cosine, 200 epochs)
# on V1's extracted frames (mmaction2's rawframe layout) with 16 uniformly sampled frames, no flipping (the labels
# such as "left to right" depend on direction) and 3 crops x 1 clip at test. Each config sets the backbone's arch,
# drop path and Kinetics checkpoint, and the number of frames where it differs from 16.
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
        num_classes=174,
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
# Testing views: 3 crops x 1 clip (the validation pipeline with three crops).
test_pipeline = [dict(step, type='ThreeCrop') if step['type'] == 'CenterCrop' else step for step in val_pipeline]

train_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_train,
        data_prefix=dict(img=data_root),
        filename_tmpl=filename_tmpl,
        pipeline=train_pipeline))
# Validation: the training loader's batch size and workers, unshuffled, on the validation videos.
val_dataloader = dict(
    train_dataloader,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(train_dataloader['dataset'], ann_file=ann_file_val, pipeline=val_pipeline, test_mode=True))
# Testing: the validation loader, one video (3 crops) per batch, with the testing pipeline.
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
