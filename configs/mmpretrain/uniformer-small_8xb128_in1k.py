# UniFormer-S on ImageNet-1K at 224: the reference release's exp/uniformer_small/run.sh.
_base_ = './_base_/uniformer_8xb128_in1k.py'

model = dict(backbone=dict(arch='small', drop_path_rate=0.1))
