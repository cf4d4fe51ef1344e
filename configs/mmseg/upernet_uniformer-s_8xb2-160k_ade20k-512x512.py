# UperNet 160k, UniFormer-S with global attention in every stage-3 block, ADE20K 512x512: the
# reference release's global model (47.6 mIoU single-scale, 48.5 multi-scale published).
_base_ = './upernet_uniformer-s-h14_8xb2-160k_ade20k-512x512.py'

model = dict(backbone=dict(attn_mode='global'))
