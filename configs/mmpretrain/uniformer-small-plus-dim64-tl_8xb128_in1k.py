# UniFormer-S+ with head_dim 64, token-labeling release: token_labeling/exp/uniformer_small_plus_dim64_tl_224/run.sh.
# Published: 83.6 top-1.
_base_ = './uniformer-small-tl_8xb128_in1k.py'
model = dict(backbone=dict(arch='small_plus_dim64'))
