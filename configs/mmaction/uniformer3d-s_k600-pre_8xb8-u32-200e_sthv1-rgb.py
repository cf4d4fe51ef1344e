# UniFormer-S on Something-Something V1 (extracted frames), 32 uniformly sampled frames, fine-tuned from the official
# Kinetics-600 S 16x4 checkpoint.
_base_ = './_base_/uniformer3d_8xb8-200e_sthv1-rgb.py'

# The official Kinetics-600 release ({'model_state': ...}); its 600-class head is left unused.
pretrained = 'checkpoints/uniformer_small_k600_16x4.pth'
model = dict(backbone=dict(arch='small', drop_path_rate=0.1, init_cfg=dict(type='Pretrained', checkpoint=pretrained)))

# The base pipelines with 32 uniformly sampled frames (training, validation and testing alike).
train_pipeline, val_pipeline, test_pipeline = (
    [dict(step, clip_len=32) if step['type'] == 'UniformSample' else dict(step) for step in pipeline]
    for pipeline in (_base_.train_pipeline, _base_.val_pipeline, _base_.test_pipeline))
train_dataloader, val_dataloader, test_dataloader = (
    dict(dataset=dict(pipeline=pipeline)) for pipeline in (train_pipeline, val_pipeline, test_pipeline))
