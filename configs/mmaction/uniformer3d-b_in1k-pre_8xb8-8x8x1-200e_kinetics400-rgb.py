# UniFormer-B 8x8 on Kinetics-400 (no published number): the UniFormer-S 8x8 recipe with the base model
# and its ImageNet-1K checkpoint. Testing views: 1 crop x 4 clips.
_base_ = './uniformer3d-s_in1k-pre_8xb8-8x8x1-200e_kinetics400-rgb.py'

pretrained = 'checkpoints/uniformer_base_in1k.pth'
model = dict(backbone=dict(arch='base', drop_path_rate=0.3, init_cfg=dict(checkpoint=pretrained)))
