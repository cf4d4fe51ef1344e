# UniFormer-B with layer scale (init 1e-6) in the attention blocks: exp/uniformer_base_ls/run.sh, the B recipe.
# Published: 83.9 top-1.
_base_ = './uniformer-base_8xb128_in1k.py'
model = dict(backbone=dict(arch='base_ls'))
