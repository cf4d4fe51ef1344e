# Top-down heatmap pose estimation, UniFormer-B (global stage 3), COCO keypoints 256x192: the
# reference recipe (75.0 AP published).
_base_ = './td-hm_uniformer-s_8xb128-210e_coco-256x192.py'

# The official ImageNet-1K checkpoint, by its name in uniformer_mm.checkpoint_sources: downloaded from the
# release's Hugging Face repo on first use (or give a local path).
pretrained = 'uniformer_base_in1k'

model = dict(backbone=dict(arch='base', drop_path_rate=0.4, init_cfg=dict(checkpoint=pretrained)))
