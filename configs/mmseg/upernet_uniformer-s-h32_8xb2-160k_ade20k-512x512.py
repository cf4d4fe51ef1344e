# UperNet 160k, UniFormer-S tested with hybrid stage 3 (window 32, every fourth block global),
# ADE20K 512x512: the reference release's globally trained S model evaluated in the hybrid pattern
# (47.0 mIoU single-scale, 48.5 multi-scale published). Evaluate the checkpoint of
# upernet_uniformer-s_8xb2-160k_ade20k-512x512.py with this config.
_base_ = './upernet_uniformer-s_8xb2-160k_ade20k-512x512.py'

model = dict(backbone=dict(attn_mode='hybrid', window_size=32))
