# UniFormer-B with 32 uniformly sampled frames on Something-Something V2, fine-tuned from
# the official Kinetics-400 16x4 checkpoint, as the reference release did (71.1 top-1 published, 3 crops x 1 clip).
# No flipping: SSv2 labels such as "left to right" depend on direction.
_base_ = './uniformer3d-s_k400-pre_8xb8-u16-200e_sthv2-rgb.py'

# The official Kinetics-400 release ({'model_state': ...}); its 400-class head is left unused.
pretrained = 'checkpoints/uniformer_base_k400_16x4.pth'
model = dict(backbone=dict(arch='base', drop_path_rate=0.3, init_cfg=dict(checkpoint=pretrained)))

# The UniFormer-S pipelines with 32 frames (training, validation and 3-crop testing alike).
train_pipeline, val_pipeline, test_pipeline = (
    [dict(step, clip_len=32) if step['type'] == 'UniformSample' else dict(step) for step in pipeline]
    for pipeline in (_base_.train_pipeline, _base_.val_pipeline, _base_.test_pipeline))
train_dataloader, val_dataloader, test_dataloader = (
    dict(dataset=dict(pipeline=pipeline)) for pipeline in (train_pipeline, val_pipeline, test_pipeline))
