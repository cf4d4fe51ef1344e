# Top-down heatmap pose estimation, UniFormer-S (global stage 3), COCO keypoints 448x320: the
# reference recipe (76.2 AP published). Heatmaps 80x112 with sigma 3; 512 images per step
# (64 per GPU x 8 GPUs), lr 1e-3.
_base_ = './td-hm_uniformer-s_8xb128-210e_coco-384x288.py'

# The inherited pipelines and head captured the 384x288 codec when they were read, so each is re-derived.
codec = dict(type='MSRAHeatmap', input_size=(320, 448), heatmap_size=(80, 112), sigma=3)

model = dict(head=dict(decoder=codec))

# Each inherited step without the `_scope_` key that the mmpose:: base adds.
train_pipeline, val_pipeline = (
    [dict(step, input_size=codec['input_size']) if step['type'] == 'TopdownAffine' else
     dict(step, encoder=codec) if step['type'] == 'GenerateTarget' else step
     for step in ({k: v for k, v in step.items() if k != '_scope_'} for step in pipeline)]
    for pipeline in (_base_.train_pipeline, _base_.val_pipeline))
train_dataloader = dict(batch_size=64, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader

optim_wrapper = dict(optimizer=dict(lr=1e-3))
auto_scale_lr = dict(base_batch_size=512)
