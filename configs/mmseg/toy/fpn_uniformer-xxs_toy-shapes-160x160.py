# The Semantic FPN XXS recipe (the light model with token pruning) on the generated ADE20K-style toy-shapes set:
# the S-h14 toy config with the backbone and neck of configs/mmseg/fpn_uniformer-xxs_8xb4-80k_ade20k-512x512.py
# (the two recipes differ in nothing else), random initial weights.
_base_ = './fpn_uniformer-s-h14_toy-shapes-160x160.py'

model = dict(
    backbone=dict(arch='xxs', attn_mode='global', drop_path_rate=0.),
    neck=dict(in_channels=[56, 112, 224, 448]))
