# Semantic FPN 80k, UniFormer-B with global attention in every stage-3 block, ADE20K 512x512: the
# reference release's global B model (48.0 mIoU published).
_base_ = './fpn_uniformer-b-h14_8xb4-80k_ade20k-512x512.py'

model = dict(backbone=dict(attn_mode='global'))
