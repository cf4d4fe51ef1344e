# UniFormer-S with 32 uniformly sampled frames on Something-Something V1, fine-tuned from the
# official Kinetics-600 16x4 checkpoint (59.9 top-1 published, 3 crops x 1 clip): the same recipe fine-tuned from the
# official Kinetics-600 16x4 checkpoint.
_base_ = './uniformer3d-s_k400-pre_8xb8-u32-200e_sthv1-rgb.py'

# The official Kinetics-600 16x4 release ({'model_state': ...}); its 600-class head is left unused.
pretrained = 'checkpoints/uniformer_small_k600_16x4.pth'
model = dict(backbone=dict(init_cfg=dict(checkpoint=pretrained)))
