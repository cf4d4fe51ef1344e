# The Mask R-CNN 1x XXS recipe (the light model with token pruning) on the generated toy-shapes COCO set: the S-h14
# toy config with the backbone and neck of configs/mmdet/mask-rcnn_uniformer-xxs_fpn_1x_coco.py (which trains
# like S-h14 1x without stochastic depth, gradient checkpointing or mixed precision), random initial weights.
_base_ = './mask-rcnn_uniformer-s-h14_fpn_toy-shapes.py'

model = dict(
    backbone=dict(arch='xxs', attn_mode='global', drop_path_rate=0.),
    neck=dict(in_channels=[56, 112, 224, 448]))
