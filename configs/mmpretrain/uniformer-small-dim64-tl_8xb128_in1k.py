# UniFormer-S with head_dim 64 (the standard S layout), token-labeling release:
# token_labeling/exp/uniformer_small_dim64_tl_224/run.sh, the TL S recipe.
_base_ = './_base_/uniformer-tl_8xb128_in1k.py'

model = dict(backbone=dict(arch='small', drop_path_rate=0.1))
