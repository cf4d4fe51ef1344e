# UniFormer-L with layer scale in every block (depths 5/10/24/7, widths 128/192/448/640, head_dim 64), token-labeling
# release: token_labeling/exp/uniformer_large_ls_tl_224/run.sh, the TL S recipe with lr 1.2e-3 and drop path 0.4.
_base_ = './_base_/uniformer-tl_8xb128_in1k.py'

model = dict(backbone=dict(arch='large_ls', drop_path_rate=0.4), head=dict(in_channels=640))
optim_wrapper = dict(optimizer=dict(lr=1.2e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6 / 1.2e-3, by_epoch=True, end=5, convert_to_iter_based=True),
    # Cosine until epoch 300, then the 10 cool-down epochs at eta_min.
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True, begin=5, end=300, T_max=295),
]
