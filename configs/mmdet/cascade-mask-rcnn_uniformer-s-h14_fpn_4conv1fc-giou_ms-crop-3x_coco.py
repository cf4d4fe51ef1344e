# Cascade Mask R-CNN 3x with multi-scale training, UniFormer-S with hybrid stage 3 (window 14), COCO: the reference
# recipe.
_base_ = './_base_/cascade-mask-rcnn_uniformer_fpn_4conv1fc-giou_ms-crop-3x_coco.py'

# The official ImageNet-1K checkpoint, by its name in uniformer_mm.checkpoint_sources: downloaded from the
# release's Hugging Face repo on first use (or give a local path).
pretrained = 'uniformer_small_in1k'

model = dict(backbone=dict(arch='small', attn_mode='hybrid', drop_path_rate=0.2, with_cp=(0, 0, 8, 0),
                           init_cfg=dict(type='Pretrained', checkpoint=pretrained)))
