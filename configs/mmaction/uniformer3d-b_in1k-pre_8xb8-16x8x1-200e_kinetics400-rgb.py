# UniFormer-B 16x8 on Kinetics-400 (81.7 top-1 published, 1 crop x 4 clips): the UniFormer-S 16x8 recipe
# with the base model and its ImageNet-1K checkpoint.
_base_ = './uniformer3d-s_in1k-pre_8xb8-16x8x1-200e_kinetics400-rgb.py'

# The official ImageNet-1K checkpoint, by its name in uniformer_mm.checkpoint_sources: downloaded from the
# release's Hugging Face repo on first use (or give a local path).
pretrained = 'uniformer_base_in1k'
model = dict(backbone=dict(arch='base', drop_path_rate=0.3, init_cfg=dict(checkpoint=pretrained)))
