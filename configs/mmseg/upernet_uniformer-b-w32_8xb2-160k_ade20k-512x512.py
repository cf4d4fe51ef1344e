# UperNet 160k, UniFormer-B tested with window attention (32x32 windows) in every stage-3 block,
# ADE20K 512x512: the reference release's globally trained B model evaluated with windows
# (49.1 mIoU single-scale, 50.6 multi-scale published). Evaluate the checkpoint of
# upernet_uniformer-b_8xb2-160k_ade20k-512x512.py with this config.
_base_ = './upernet_uniformer-b_8xb2-160k_ade20k-512x512.py'

# The release's test configs do not checkpoint any block.
model = dict(backbone=dict(attn_mode='window', window_size=32, with_cp=(0, 0, 0, 0)))
