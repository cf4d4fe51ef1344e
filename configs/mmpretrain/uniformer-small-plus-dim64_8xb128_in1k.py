# UniFormer-S+ with head_dim 64: exp/uniformer_small_plus_dim64/run.sh, the S recipe.
_base_ = './_base_/uniformer_8xb128_in1k.py'

model = dict(backbone=dict(arch='small_plus_dim64', drop_path_rate=0.1))
