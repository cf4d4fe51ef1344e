# Top-down heatmap pose estimation, UniFormer-S (global stage 3), COCO keypoints 256x192: the
# reference recipe (74.0 AP published with the detected person boxes). Three 256-channel
# deconvolutions and a 1x1 conv to 17 heatmaps (48x64, sigma 2), MSE loss; 1024 images per step
# (128 per GPU x 8 GPUs), mixed precision.
_base_ = 'mmpose::body_2d_keypoint/topdown_heatmap/coco/td-hm_res50_8xb64-210e_coco-256x192.py'

custom_imports = dict(imports=['uniformer_mm'], allow_failed_imports=False)

# The official ImageNet-1K UniFormer-S checkpoint, by its name in uniformer_mm.checkpoint_sources:
# downloaded from the release's Hugging Face repo on first use (or give a local path).
pretrained = 'uniformer_small_in1k'

model = dict(
    backbone=dict(
        _delete_=True,
        type='UniFormer2D',
        arch='small',
        attn_mode='global',
        drop_path_rate=0.2,
        out_indices=(3, ),
        init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    head=dict(in_channels=512))

train_dataloader = dict(batch_size=128)

# AdamW with weight decay on every parameter (as the release), 500 warm-up iterations, steps at
# epochs 170 and 200 (inherited).
optim_wrapper = dict(
    type='AmpOptimWrapper',
    loss_scale='dynamic',
    optimizer=dict(_delete_=True, type='AdamW', lr=2e-3, betas=(0.9, 0.999), weight_decay=0.01))
auto_scale_lr = dict(base_batch_size=1024)
