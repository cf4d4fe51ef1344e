# UniFormer-B: exp/uniformer_base/run.sh, the S recipe with drop path 0.3 and lr 4e-4 per 512 images (8e-4 here).
_base_ = './_base_/uniformer_8xb128_in1k.py'

model = dict(backbone=dict(arch='base', drop_path_rate=0.3))
optim_wrapper = dict(optimizer=dict(lr=4e-4 * 1024 / 512))
param_scheduler = dict(start_factor=1e-6 / 8e-4)
