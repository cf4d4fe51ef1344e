# Light UniFormer-XXS, 16 uniformly sampled frames at 160 px, Kinetics-400: the release's video exp_light/xxs16_160
# recipe.
_base_ = './_base_/uniformer3d-xxs_8xb32-110e_kinetics400-rgb-160px.py'

model = dict(backbone=dict(arch='xxs'))
