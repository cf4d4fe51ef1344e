# Top-down heatmap pose estimation, UniFormer-S (global stage 3), COCO keypoints 384x288: the
# reference recipe (75.9 AP published). Heatmaps 72x96 with sigma 3.
_base_ = 'mmpose::body_2d_keypoint/topdown_heatmap/coco/td-hm_res50_8xb64-210e_coco-384x288.py'

custom_imports = dict(imports=['uniformer_mm'], allow_failed_imports=False)

# The official ImageNet-1K checkpoint, by its name in uniformer_mm.checkpoint_sources: downloaded from the
# release's Hugging Face repo on first use (or give a local path).
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

optim_wrapper = dict(
    type='AmpOptimWrapper',
    loss_scale='dynamic',
    optimizer=dict(_delete_=True, type='AdamW', lr=2e-3, betas=(0.9, 0.999), weight_decay=0.01))
auto_scale_lr = dict(base_batch_size=1024)
