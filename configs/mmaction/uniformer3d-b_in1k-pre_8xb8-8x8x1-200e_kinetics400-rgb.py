# UniFormer-B 8x8 on Kinetics-400 (79.8 top-1 published): the UniFormer-S 8x8 recipe with the base model
# and its ImageNet-1K checkpoint. Testing views: 1 crop x 4 clips.
_base_ = './uniformer3d-s_in1k-pre_8xb8-8x8x1-200e_kinetics400-rgb.py'

# The official ImageNet-1K checkpoint, by its name in uniformer_mm.checkpoint_sources: downloaded from the
# release's Hugging Face repo on first use (or give a local path).
pretrained = 'uniformer_base_in1k'
model = dict(backbone=dict(arch='base', drop_path_rate=0.3, init_cfg=dict(checkpoint=pretrained)))
