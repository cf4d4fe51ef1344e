# UniFormer-B with 32 uniformly sampled frames on Something-Something V1, fine-tuned from the
# official Kinetics-400 16x4 checkpoint (60.9 top-1 published, 3 crops x 1 clip): the 16-frame recipe with 32 frames.
_base_ = './uniformer3d-s_k400-pre_8xb8-u32-200e_sthv1-rgb.py'

# The official Kinetics-400 release ({'model_state': ...}); its 400-class head is left unused.
pretrained = 'checkpoints/uniformer_base_k400_16x4.pth'
model = dict(backbone=dict(arch='base', drop_path_rate=0.3, init_cfg=dict(checkpoint=pretrained)))
