# Semantic FPN 80k, UniFormer-S tested with hybrid stage 3 (window 32, every fourth block global),
# ADE20K 512x512: the reference release's globally trained S model evaluated this way (46.2 mIoU
# published). Evaluate the checkpoint of fpn_uniformer-s_8xb4-80k_ade20k-512x512.py with this config.
_base_ = './fpn_uniformer-s_8xb4-80k_ade20k-512x512.py'

model = dict(backbone=dict(attn_mode='hybrid', window_size=32))
