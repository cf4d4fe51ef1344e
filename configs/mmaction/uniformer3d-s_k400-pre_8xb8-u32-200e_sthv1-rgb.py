# UniFormer-S with 32 uniformly sampled frames on Something-Something V1, fine-tuned from the
# official Kinetics-400 16x4 checkpoint (58.8 top-1 published, 3 crops x 1 clip): the 16-frame recipe with 32 frames.
_base_ = './uniformer3d-s_k400-pre_8xb8-u16-200e_sthv1-rgb.py'

# The 16-frame rawframe pipelines with 32 uniformly sampled frames.
train_pipeline, val_pipeline, test_pipeline = (
    [dict(step, clip_len=32) if step['type'] == 'UniformSample' else dict(step) for step in pipeline]
    for pipeline in (_base_.train_pipeline, _base_.val_pipeline, _base_.test_pipeline))
train_dataloader, val_dataloader, test_dataloader = (
    dict(dataset=dict(pipeline=pipeline)) for pipeline in (train_pipeline, val_pipeline, test_pipeline))
