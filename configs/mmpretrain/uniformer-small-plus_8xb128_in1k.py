# UniFormer-S+ (overlapping convolutional stem, head_dim 32): exp/uniformer_small_plus/run.sh, the S recipe.
# Published: 83.4 top-1.
_base_ = './uniformer-small_8xb128_in1k.py'
model = dict(backbone=dict(arch='small_plus'))
