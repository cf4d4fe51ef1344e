# Top-down heatmap pose estimation, UniFormer-S (global stage 3), COCO keypoints 384x288: the reference recipe, 128
# images per GPU x 8 GPUs.
_base_ = './_base_/td-hm_uniformer_coco-384x288.py'

# The official ImageNet-1K checkpoint, by its name in uniformer_mm.checkpoint_sources: downloaded from the
# release's Hugging Face repo on first use (or give a local path).
pretrained = 'uniformer_small_in1k'

model = dict(backbone=dict(arch='small', drop_path_rate=0.2, init_cfg=dict(type='Pretrained', checkpoint=pretrained)))

train_dataloader = dict(batch_size=128)
optim_wrapper = dict(optimizer=dict(lr=2e-3))
auto_scale_lr = dict(base_batch_size=1024)
