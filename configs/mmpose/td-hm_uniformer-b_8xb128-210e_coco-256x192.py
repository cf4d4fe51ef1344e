# Top-down heatmap pose estimation, UniFormer-B (global stage 3), COCO keypoints 256x192: the reference recipe, 128
# images per GPU x 8 GPUs.
_base_ = './_base_/td-hm_uniformer_coco-256x192.py'

# The official ImageNet-1K checkpoint, by its name in uniformer_mm.checkpoint_sources: downloaded from the
# release's Hugging Face repo on first use (or give a local path).
pretrained = 'uniformer_base_in1k'

model = dict(backbone=dict(arch='base', drop_path_rate=0.4, init_cfg=dict(type='Pretrained', checkpoint=pretrained)))

train_dataloader = dict(batch_size=128)
optim_wrapper = dict(optimizer=dict(lr=2e-3))
auto_scale_lr = dict(base_batch_size=1024)
