# UniFormer-S+ with head_dim 64: exp/uniformer_small_plus_dim64/run.sh, the S recipe.
# Published: 83.4 top-1.
_base_ = './uniformer-small_8xb128_in1k.py'
model = dict(backbone=dict(arch='small_plus_dim64'))
