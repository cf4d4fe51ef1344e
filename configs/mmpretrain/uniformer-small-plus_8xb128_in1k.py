# UniFormer-S+ (overlapping convolutional stem, head_dim 32): exp/uniformer_small_plus/run.sh, the S recipe.
_base_ = './_base_/uniformer_8xb128_in1k.py'

model = dict(backbone=dict(arch='small_plus', drop_path_rate=0.1))
