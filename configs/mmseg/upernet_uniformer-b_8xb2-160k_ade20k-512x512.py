# UperNet 160k, UniFormer-B with global attention in every stage-3 block, ADE20K 512x512: the reference release's
# global B model. The release checkpointed the first 2 stage-3 blocks of this model to fit its memory.
_base_ = './_base_/upernet_uniformer_8xb2-160k_ade20k-512x512.py'

# The official ImageNet-1K checkpoint, by its name in uniformer_mm.checkpoint_sources: downloaded from the
# release's Hugging Face repo on first use (or give a local path).
pretrained = 'uniformer_base_in1k'

model = dict(backbone=dict(arch='base', attn_mode='global', drop_path_rate=0.4, with_cp=(0, 0, 2, 0),
                           init_cfg=dict(type='Pretrained', checkpoint=pretrained)))
