# The UniFormer-S 16x4 Kinetics recipe on the generated direction-of-motion clips
# (tools/dataset_converters/generate_toy_video.py):
# only the data, the image size (64x64), the classes and the schedule differ. Trains from scratch on the CPU
# (no ImageNet weights here) in a few minutes; mixed precision and mixup/cutmix are off on this tiny set.
_base_ = '../_base_/uniformer3d-s_toy-motion-data.py'

model = dict(backbone=dict(init_cfg=None), cls_head=dict(num_classes=2), data_preprocessor=dict(blending=None))

max_epochs = 6
warmup_epochs = 1
train_cfg = dict(max_epochs=max_epochs, val_interval=2)
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(lr=1e-3))
param_scheduler = dict(warmup_ratio=warmup_epochs / max_epochs)
default_hooks = dict(checkpoint=dict(interval=2, max_keep_ckpts=1), logger=dict(interval=5))
