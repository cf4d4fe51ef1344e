# UniFormer-B 16x4 on Kinetics-600 from ImageNet-1K: the UniFormer-S Kinetics-600 recipe with the base model.
_base_ = './uniformer3d-s_in1k-pre_8xb8-16x4x1-200e_kinetics600-rgb.py'

pretrained = 'checkpoints/uniformer_base_in1k.pth'
model = dict(backbone=dict(arch='base', drop_path_rate=0.3, init_cfg=dict(checkpoint=pretrained)))
