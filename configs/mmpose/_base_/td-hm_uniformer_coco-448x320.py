# Top-down heatmap pose estimation on COCO keypoints 448x320 with a UniFormer backbone: the reference recipe, mmpose's
# 384x288 config at 448x320 (heatmaps 80x112, sigma 3; the release's detected person boxes for evaluation) with three
# 256-channel deconvolutions and a 1x1 conv to 17 heatmaps, MSE loss, mixed precision. Each config sets the backbone's
# arch, drop path and ImageNet-1K checkpoint, and its batch size and learning rate.
_base_ = 'mmpose::body_2d_keypoint/topdown_heatmap/coco/td-hm_res50_8xb64-210e_coco-384x288.py'

custom_imports = dict(imports=['uniformer_mm'], allow_failed_imports=False)

# The inherited pipelines and head captured the 384x288 codec when they were read, so each is re-derived.
codec = dict(type='MSRAHeatmap', input_size=(320, 448), heatmap_size=(80, 112), sigma=3)

model = dict(
    backbone=dict(_delete_=True, type='UniFormer2D', attn_mode='global', out_indices=(3, )),
    head=dict(in_channels=512, decoder=codec))

# Each inherited step without the `_scope_` key that the mmpose:: base adds.
train_pipeline, val_pipeline = (
    [dict(step, input_size=codec['input_size']) if step['type'] == 'TopdownAffine' else
     dict(step, encoder=codec) if step['type'] == 'GenerateTarget' else step
     for step in ({k: v for k, v in step.items() if k != '_scope_'} for step in pipeline)]
    for pipeline in (_base_.train_pipeline, _base_.val_pipeline))
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader

# AdamW with weight decay on every parameter (as the release), 500 warm-up iterations, steps at epochs 170 and 200
# (inherited).
optim_wrapper = dict(
    type='AmpOptimWrapper',
    loss_scale='dynamic',
    optimizer=dict(_delete_=True, type='AdamW', betas=(0.9, 0.999), weight_decay=0.01))
