# UniFormer-S+ with head_dim 64, token-labeling release: token_labeling/exp/uniformer_small_plus_dim64_tl_224/run.sh.
_base_ = './_base_/uniformer-tl_8xb128_in1k.py'

model = dict(backbone=dict(arch='small_plus_dim64', drop_path_rate=0.1))
