# Light UniFormer-XXS, 4 uniformly sampled frames at 128 px, Kinetics-400: the release's video exp_light/xxs4_128
# recipe with lr 4e-4. The release trains these short-clip XXS models with layer scale (init 0.1) in every block (its
# ls_fp32 model), hence arch xxs_ls.
_base_ = './_base_/uniformer3d-xxs_8xb32-110e_kinetics400-rgb-128px.py'

model = dict(backbone=dict(arch='xxs_ls'))

frames = 4
train_pipeline, val_pipeline = (
    [dict(step, clip_len=frames) if step['type'] == 'UniformSample' else step for step in pipeline]
    for pipeline in (_base_.train_pipeline, _base_.val_pipeline))
test_pipeline = val_pipeline
train_dataloader, val_dataloader, test_dataloader = (
    dict(dataset=dict(pipeline=pipeline)) for pipeline in (train_pipeline, val_pipeline, test_pipeline))

lr = 4e-4
optim_wrapper = dict(optimizer=dict(lr=lr))
param_scheduler = dict(start_factor=1e-6 / lr)
