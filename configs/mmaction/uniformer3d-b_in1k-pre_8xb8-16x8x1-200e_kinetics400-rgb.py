# UniFormer-B on Kinetics-400, 16 frames sampled every 8th, from inflated ImageNet-1K weights: the reference recipe.
_base_ = './_base_/uniformer3d_8xb8-200e_kinetics400-rgb.py'

# The official ImageNet-1K checkpoint, by its name in uniformer_mm.checkpoint_sources: downloaded from the
# release's Hugging Face repo on first use (or give a local path).
pretrained = 'uniformer_base_in1k'
model = dict(backbone=dict(arch='base', drop_path_rate=0.3, init_cfg=dict(type='Pretrained', checkpoint=pretrained)))

# The base pipelines with 16 frames, every 8th (training, validation and testing alike).
train_pipeline, val_pipeline, test_pipeline = (
    [dict(step, frame_interval=8) if step['type'] == 'SampleFrames' else dict(step) for step in pipeline]
    for pipeline in (_base_.train_pipeline, _base_.val_pipeline, _base_.test_pipeline))
train_dataloader, val_dataloader, test_dataloader = (
    dict(dataset=dict(pipeline=pipeline)) for pipeline in (train_pipeline, val_pipeline, test_pipeline))
