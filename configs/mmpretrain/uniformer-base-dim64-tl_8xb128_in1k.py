# UniFormer-B with head_dim 64 (the standard B layout), token-labeling release:
# token_labeling/exp/uniformer_base_dim64_tl_224/run.sh, the TL B recipe.
_base_ = './_base_/uniformer-tl_8xb128_in1k.py'

model = dict(backbone=dict(arch='base', drop_path_rate=0.3))
