# UperNet 160k, UniFormer-B tested with window attention (32x32 windows) in every stage-3 block, ADE20K 512x512: the
# reference release's globally trained B model evaluated this way. Evaluate the checkpoint of
# upernet_uniformer-b_8xb2-160k_ade20k-512x512.py with this config.
_base_ = './_base_/upernet_uniformer_8xb2-160k_ade20k-512x512.py'

# The official ImageNet-1K checkpoint, by its name in uniformer_mm.checkpoint_sources: downloaded from the
# release's Hugging Face repo on first use (or give a local path).
pretrained = 'uniformer_base_in1k'

# The release's test configs do not checkpoint any block.
model = dict(backbone=dict(arch='base', attn_mode='window', window_size=32, drop_path_rate=0.4, with_cp=(0, 0, 0, 0),
                           init_cfg=dict(type='Pretrained', checkpoint=pretrained)))
