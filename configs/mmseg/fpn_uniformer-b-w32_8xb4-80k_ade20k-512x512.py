# Semantic FPN 80k, UniFormer-B tested with window attention (32x32 windows) in every stage-3 block,
# ADE20K 512x512: the reference release's globally trained B model evaluated this way (47.0 mIoU
# published). Evaluate the checkpoint of fpn_uniformer-b_8xb4-80k_ade20k-512x512.py with this config.
_base_ = './fpn_uniformer-b_8xb4-80k_ade20k-512x512.py'

model = dict(backbone=dict(attn_mode='window', window_size=32))
