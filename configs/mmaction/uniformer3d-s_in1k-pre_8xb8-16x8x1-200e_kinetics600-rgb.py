# UniFormer-S 16x8 on Kinetics-600 (82.7 top-1 published, 1 crop x 4 clips): the Kinetics-600 16x4 recipe
# with 16 frames sampled every 8.
_base_ = './uniformer3d-s_in1k-pre_8xb8-16x4x1-200e_kinetics600-rgb.py'

# The Kinetics-600 16x4 pipelines sampling every 8th frame.
train_pipeline, val_pipeline, test_pipeline = (
    [dict(step, frame_interval=8) if step['type'] == 'SampleFrames' else dict(step) for step in pipeline]
    for pipeline in (_base_.train_pipeline, _base_.val_pipeline, _base_.test_pipeline))
train_dataloader, val_dataloader, test_dataloader = (
    dict(dataset=dict(pipeline=pipeline)) for pipeline in (train_pipeline, val_pipeline, test_pipeline))
