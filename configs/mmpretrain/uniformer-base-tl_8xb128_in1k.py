# UniFormer-B of the token-labeling release (head_dim 32): token_labeling/exp/uniformer_base_tl_224/run.sh, the TL S
# recipe with drop path 0.3.
_base_ = './_base_/uniformer-tl_8xb128_in1k.py'

model = dict(backbone=dict(arch='base_dim32', drop_path_rate=0.3))
