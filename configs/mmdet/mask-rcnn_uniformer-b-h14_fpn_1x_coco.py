# Mask R-CNN 1x, UniFormer-B with hybrid stage 3 (window 14), COCO: the reference recipe
# (47.4 box AP / 43.1 mask AP published). Differs from S-h14 1x only in the backbone.
_base_ = './mask-rcnn_uniformer-s-h14_fpn_1x_coco.py'

# The official ImageNet-1K checkpoint, by its name in uniformer_mm.checkpoint_sources: downloaded from the
# release's Hugging Face repo on first use (or give a local path).
pretrained = 'uniformer_base_in1k'

model = dict(backbone=dict(arch='base', drop_path_rate=0.3, with_cp=False, init_cfg=dict(checkpoint=pretrained)))
