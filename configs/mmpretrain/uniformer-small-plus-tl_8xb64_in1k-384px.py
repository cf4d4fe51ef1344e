# UniFormer-S+ (token labeling) fine-tuned at 384: token_labeling/exp/uniformer_small_plus_tl_384/run.sh, the TL S 384
# recipe (from the S+ 224 model: convert it with --config uniformer-small-plus-tl_8xb128_in1k.py).
_base_ = './_base_/uniformer-tl_8xb64_in1k-384px.py'

model = dict(backbone=dict(arch='small_plus', drop_path_rate=0.1))
