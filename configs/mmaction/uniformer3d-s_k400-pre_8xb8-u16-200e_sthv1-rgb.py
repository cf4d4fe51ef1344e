# UniFormer-S on Something-Something V1 (extracted frames), 16 uniformly sampled frames, fine-tuned from the official
# Kinetics-400 S 16x4 checkpoint.
_base_ = './_base_/uniformer3d_8xb8-200e_sthv1-rgb.py'

# The official Kinetics-400 release ({'model_state': ...}); its 400-class head is left unused.
pretrained = 'checkpoints/uniformer_small_k400_16x4.pth'
model = dict(backbone=dict(arch='small', drop_path_rate=0.1, init_cfg=dict(type='Pretrained', checkpoint=pretrained)))
