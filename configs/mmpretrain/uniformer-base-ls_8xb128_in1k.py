# UniFormer-B with layer scale (init 1e-6) in the attention blocks: exp/uniformer_base_ls/run.sh, the B recipe (drop
# path 0.3, lr 4e-4 per 512 images, 8e-4 here).
_base_ = './_base_/uniformer_8xb128_in1k.py'

model = dict(backbone=dict(arch='base_ls', drop_path_rate=0.3))
optim_wrapper = dict(optimizer=dict(lr=4e-4 * 1024 / 512))
param_scheduler = dict(start_factor=1e-6 / 8e-4)
