# Light UniFormer-XXS, 4 uniformly sampled frames at 128 px, Kinetics-400: the release's video
# exp_light/xxs4_128 recipe, the XXS 16x160 one with lr 0.0004 from the ImageNet XXS-128 weights
# (63.2 top-1 published, 1 crop x 1 clip).
# The release trains these short-clip XXS models with layer scale (init 0.1) in every block
# (its ls_fp32 model), hence arch xxs_ls.
_base_ = './uniformer3d-xxs_in1k-pre_8xb32-u16-110e_kinetics400-rgb-160px.py'

pretrained = 'uniformer_xxs_128_in1k'
frames = 4
image_size = 128
model = dict(backbone=dict(arch='xxs_ls', init_cfg=dict(checkpoint=pretrained)))
train_pipeline = [
    dict(t, clip_len=frames) if t['type'] == 'UniformSample' else
    dict(t, scale=(image_size, image_size)) if t['type'] == 'Resize' else t for t in _base_.train_pipeline
]
val_pipeline = [
    dict(t, clip_len=frames) if t['type'] == 'UniformSample' else
    dict(t, scale=(-1, image_size)) if t['type'] == 'Resize' else
    dict(t, crop_size=image_size) if t['type'] == 'CenterCrop' else t for t in _base_.val_pipeline
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=val_pipeline))
lr = 0.0004
optim_wrapper = dict(optimizer=dict(lr=lr))
param_scheduler = [
    dict(_base_.param_scheduler[0], start_factor=1e-6 / lr),
    _base_.param_scheduler[1],
]
