# UperNet 160k, UniFormer-B tested with hybrid stage 3 (window 32, every fourth block global),
# ADE20K 512x512: the reference release's globally trained B model evaluated in the hybrid pattern
# (49.5 mIoU single-scale, 50.7 multi-scale published). Evaluate the checkpoint of
# upernet_uniformer-b_8xb2-160k_ade20k-512x512.py with this config.
_base_ = './upernet_uniformer-b_8xb2-160k_ade20k-512x512.py'

# The release's test configs do not checkpoint any block.
model = dict(backbone=dict(attn_mode='hybrid', window_size=32, with_cp=(0, 0, 0, 0)))
