# UniFormer-S 16x8 on Kinetics-400 (80.8 top-1 published, 1 crop x 4 clips): the 16x4 recipe with
# 16 frames sampled every 8 (mmengine replaces lists whole, so the pipelines are restated).
_base_ = './uniformer3d-s_in1k-pre_8xb8-16x4x1-200e_kinetics400-rgb.py'

# The 16x4 pipelines with 16 frames, every 8th (training, validation and 4-clip testing alike).
train_pipeline, val_pipeline, test_pipeline = (
    [dict(step, frame_interval=8) if step['type'] == 'SampleFrames' else dict(step) for step in pipeline]
    for pipeline in (_base_.train_pipeline, _base_.val_pipeline, _base_.test_pipeline))
train_dataloader, val_dataloader, test_dataloader = (
    dict(dataset=dict(pipeline=pipeline)) for pipeline in (train_pipeline, val_pipeline, test_pipeline))
