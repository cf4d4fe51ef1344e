# Cascade Mask R-CNN 3x with multi-scale training, UniFormer-B hybrid-14, COCO: the reference recipe
# (53.8 box AP / 46.4 mask AP published).
_base_ = './cascade-mask-rcnn_uniformer-s-h14_fpn_4conv1fc-giou_ms-crop-3x_coco.py'

pretrained = 'checkpoints/uniformer_base_in1k.pth'

model = dict(
    backbone=dict(
        arch='base',
        drop_path_rate=0.4,
        with_cp=(0, 0, 20, 0),
        init_cfg=dict(type='Pretrained', checkpoint=pretrained)))
