# UniFormer-XXS (light, token pruning) on ImageNet-1K at 224: exp_light/xxs_224/run.sh, the XS recipe with lr 4e-4
# per 512 images (3.2e-3 here), weight decay 0.1, no drop path and AutoAugment instead of RandAugment (the run's
# timm policy 'v0'; mmpretrain's ImageNet AutoAugment policy stands in for it). Published: 80.6 top-1.
_base_ = './uniformer-xs_8xb512_in1k.py'

model = dict(backbone=dict(arch='xxs', drop_path_rate=0.), head=dict(in_channels=448))
bgr_mean = _base_.data_preprocessor.mean[::-1]
train_pipeline = [
    dict(type='AutoAugment', policies='imagenet',
         hparams=dict(pad_val=[round(x) for x in bgr_mean], interpolation='bicubic'))
    if t['type'] == 'RandAugment' else t for t in _base_.train_pipeline
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
optim_wrapper = dict(optimizer=dict(lr=4e-4 * 4096 / 512, weight_decay=0.1))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6 / 3.2e-3, by_epoch=True, end=30, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True, begin=30),
]
