# Semantic FPN 80k, UniFormer-S with hybrid stage 3 (window 14), ADE20K 512x512: the reference recipe.
_base_ = './_base_/fpn_uniformer_8xb4-80k_ade20k-512x512.py'

# The official ImageNet-1K checkpoint, by its name in uniformer_mm.checkpoint_sources: downloaded from the
# release's Hugging Face repo on first use (or give a local path).
pretrained = 'uniformer_small_in1k'

model = dict(backbone=dict(arch='small', attn_mode='hybrid', drop_path_rate=0.1,
                           init_cfg=dict(type='Pretrained', checkpoint=pretrained)))
