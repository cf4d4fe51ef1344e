# UperNet 160k, UniFormer-S tested with window attention (32x32 windows) in every stage-3 block,
# ADE20K 512x512: the reference release's globally trained S model evaluated with windows
# (46.6 mIoU single-scale, 48.4 multi-scale published). Evaluate the checkpoint of
# upernet_uniformer-s_8xb2-160k_ade20k-512x512.py with this config; training with it would train the
# windowed model instead.
_base_ = './upernet_uniformer-s_8xb2-160k_ade20k-512x512.py'

model = dict(backbone=dict(attn_mode='window', window_size=32))
