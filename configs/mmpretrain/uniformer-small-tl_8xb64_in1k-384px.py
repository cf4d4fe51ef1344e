# UniFormer-S (token labeling, head_dim 32) fine-tuned at 384: token_labeling/exp/uniformer_small_tl_384/run.sh.
_base_ = './_base_/uniformer-tl_8xb64_in1k-384px.py'

model = dict(backbone=dict(arch='small_dim32', drop_path_rate=0.1))
