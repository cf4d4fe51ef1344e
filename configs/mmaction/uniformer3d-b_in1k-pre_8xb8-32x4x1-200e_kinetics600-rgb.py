# UniFormer-B 32x4 on Kinetics-600 (84.5 top-1 published, 1 crop x 4 clips; the release trained it on
# 32 GPUs in 4 nodes and notes the result is lower than it could be for lack of tuning): the UniFormer-B
# Kinetics-600 16x4 recipe with 32 frames sampled every 4.
_base_ = './uniformer3d-b_in1k-pre_8xb8-16x4x1-200e_kinetics600-rgb.py'

# The 16x4 pipelines with 32 frames, every 4th.
train_pipeline, val_pipeline, test_pipeline = (
    [dict(step, clip_len=32) if step['type'] == 'SampleFrames' else dict(step) for step in pipeline]
    for pipeline in (_base_.train_pipeline, _base_.val_pipeline, _base_.test_pipeline))
train_dataloader, val_dataloader, test_dataloader = (
    dict(dataset=dict(pipeline=pipeline)) for pipeline in (train_pipeline, val_pipeline, test_pipeline))
