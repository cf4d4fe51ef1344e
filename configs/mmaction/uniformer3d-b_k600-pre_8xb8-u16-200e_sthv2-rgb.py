# UniFormer-B on Something-Something V2 (videos), 16 uniformly sampled frames, fine-tuned from the official
# Kinetics-600 B 16x4 checkpoint.
_base_ = './_base_/uniformer3d_8xb8-200e_sthv2-rgb.py'

# The official Kinetics-600 release ({'model_state': ...}); its 600-class head is left unused.
pretrained = 'checkpoints/uniformer_base_k600_16x4.pth'
model = dict(backbone=dict(arch='base', drop_path_rate=0.3, init_cfg=dict(type='Pretrained', checkpoint=pretrained)))
