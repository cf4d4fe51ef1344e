# UperNet 160k, UniFormer-S with global attention in every stage-3 block, ADE20K 512x512: the reference release's
# global S model.
_base_ = './_base_/upernet_uniformer_8xb2-160k_ade20k-512x512.py'

# The official ImageNet-1K checkpoint, by its name in uniformer_mm.checkpoint_sources: downloaded from the
# release's Hugging Face repo on first use (or give a local path).
pretrained = 'uniformer_small_in1k'

model = dict(backbone=dict(arch='small', attn_mode='global', drop_path_rate=0.25,
                           init_cfg=dict(type='Pretrained', checkpoint=pretrained)))
