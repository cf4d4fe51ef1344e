# Mask R-CNN 1x, light UniFormer-XS, COCO: exp_light/mask_rcnn_1x_xs, the XXS recipe with drop path 0.15
# (44.6 box AP / 40.9 mask AP published).
_base_ = './mask-rcnn_uniformer-xxs_fpn_1x_coco.py'

pretrained = 'uniformer_xs_224_in1k'
model = dict(
    backbone=dict(arch='xs', drop_path_rate=0.15, init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    neck=dict(in_channels=[64, 128, 256, 512]))
