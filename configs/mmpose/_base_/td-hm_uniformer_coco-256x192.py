# Top-down heatmap pose estimation on COCO keypoints 256x192 with a UniFormer backbone: the reference recipe, mmpose's
# own 256x192 config (heatmaps 48x64, sigma 2, the release's detected person boxes for evaluation) with three
# 256-channel deconvolutions and a 1x1 conv to 17 heatmaps, MSE loss, mixed precision. Each config sets the backbone's
# arch, drop path and ImageNet-1K checkpoint, and its batch size and learning rate.
_base_ = 'mmpose::body_2d_keypoint/topdown_heatmap/coco/td-hm_res50_8xb64-210e_coco-256x192.py'

custom_imports = dict(imports=['uniformer_mm'], allow_failed_imports=False)

model = dict(
    backbone=dict(_delete_=True, type='UniFormer2D', attn_mode='global', out_indices=(3, )),
    head=dict(in_channels=512))

# AdamW with weight decay on every parameter (as the release), 500 warm-up iterations, steps at epochs 170 and 200
# (inherited).
optim_wrapper = dict(
    type='AmpOptimWrapper',
    loss_scale='dynamic',
    optimizer=dict(_delete_=True, type='AdamW', betas=(0.9, 0.999), weight_decay=0.01))
