# UperNet 160k, UniFormer-B with hybrid stage 3 (window 14), ADE20K 512x512: the reference recipe.
_base_ = './_base_/upernet_uniformer_8xb2-160k_ade20k-512x512.py'

# The official ImageNet-1K checkpoint, by its name in uniformer_mm.checkpoint_sources: downloaded from the
# release's Hugging Face repo on first use (or give a local path).
pretrained = 'uniformer_base_in1k'

# The recipe sources we could read give 0.25 for S only; 0.4 as the Cascade B recipe.
model = dict(backbone=dict(arch='base', attn_mode='hybrid', drop_path_rate=0.4,
                           init_cfg=dict(type='Pretrained', checkpoint=pretrained)))
