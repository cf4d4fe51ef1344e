# UniFormer-L-ls (token labeling) fine-tuned at 384: token_labeling/exp/uniformer_large_ls_tl_384/run.sh, the TL S 384
# recipe with 8 GPUs x 32 images and drop path 0.3 (from the L-ls 224 model: convert it with
# uniformer-large-ls-tl_8xb128_in1k.py). The release's run.sh names uniformer_small_plus as the model, a slip in the
# file: the published 384 L-ls checkpoint is large_ls.
_base_ = './_base_/uniformer-tl_8xb64_in1k-384px.py'

model = dict(backbone=dict(arch='large_ls', drop_path_rate=0.3), head=dict(in_channels=640))
train_dataloader = dict(batch_size=32)
val_dataloader = dict(batch_size=32)
test_dataloader = val_dataloader
auto_scale_lr = dict(base_batch_size=256)
