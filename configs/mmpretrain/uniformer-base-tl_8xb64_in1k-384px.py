# UniFormer-B (token labeling, head_dim 32) fine-tuned at 384: token_labeling/exp/uniformer_base_tl_384/run.sh, the TL
# S 384 recipe with drop path 0.3 (from the B 224 model: convert it with uniformer-base-tl_8xb128_in1k.py).
_base_ = './_base_/uniformer-tl_8xb64_in1k-384px.py'

model = dict(backbone=dict(arch='base_dim32', drop_path_rate=0.3))
