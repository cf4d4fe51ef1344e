# UniFormer-S of the token-labeling release (head_dim 32): token_labeling/exp/uniformer_small_tl_224/run.sh.
_base_ = './_base_/uniformer-tl_8xb128_in1k.py'

model = dict(backbone=dict(arch='small_dim32', drop_path_rate=0.1))
