# Light UniFormer-XS, 32 uniformly sampled frames at 192 px, Kinetics-400: the release's video exp_light/xs32_192
# recipe, the XXS 16x160 one with 8 GPUs x 16 clips, lr 4e-4, weight decay 0.05 and drop path 0.1, from the
# ImageNet XS-192 weights (78.6 top-1 published, 1 crop x 1 clip).
_base_ = './uniformer3d-xxs_in1k-pre_8xb32-u32-110e_kinetics400-rgb-160px.py'

pretrained = 'uniformer_xs_192_in1k'
image_size = 192
model = dict(backbone=dict(arch='xs', drop_path_rate=0.1, init_cfg=dict(checkpoint=pretrained)),
             cls_head=dict(in_channels=512))
train_pipeline = [
    dict(t, scale=(image_size, image_size)) if t['type'] == 'Resize' else t for t in _base_.train_pipeline
]
val_pipeline = [
    dict(t, scale=(-1, image_size)) if t['type'] == 'Resize' else
    dict(t, crop_size=image_size) if t['type'] == 'CenterCrop' else t for t in _base_.val_pipeline
]
train_dataloader = dict(batch_size=16, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=16, dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=val_pipeline))
lr = 4e-4
optim_wrapper = dict(optimizer=dict(lr=lr, weight_decay=0.05))
param_scheduler = [
    dict(_base_.param_scheduler[0], start_factor=1e-6 / lr),
    _base_.param_scheduler[1],
]
auto_scale_lr = dict(base_batch_size=128)
