# Semantic FPN 80k, UniFormer-S tested with window attention (32x32 windows) in every stage-3 block, ADE20K 512x512:
# the reference release's globally trained S model evaluated this way. Evaluate the checkpoint of
# fpn_uniformer-s_8xb4-80k_ade20k-512x512.py with this config.
_base_ = './_base_/fpn_uniformer_8xb4-80k_ade20k-512x512.py'

# The official ImageNet-1K checkpoint, by its name in uniformer_mm.checkpoint_sources: downloaded from the
# release's Hugging Face repo on first use (or give a local path).
pretrained = 'uniformer_small_in1k'

model = dict(backbone=dict(arch='small', attn_mode='window', window_size=32, drop_path_rate=0.1,
                           init_cfg=dict(type='Pretrained', checkpoint=pretrained)))
