# The default detection config: Mask R-CNN 1x with UniFormer-S hybrid-14 (see the file it inherits).
_base_ = './mmdet/mask-rcnn_uniformer-s-h14_fpn_1x_coco.py'
