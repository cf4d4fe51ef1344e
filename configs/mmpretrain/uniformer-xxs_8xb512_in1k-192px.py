# UniFormer-XXS at 192: exp_light/xxs_192/run.sh, the XXS recipe at 192 px (test: resize to 219, centre crop 192).
_base_ = './uniformer-xxs_8xb512_in1k.py'

image_size = 192
train_pipeline = [dict(t, scale=image_size) if t['type'] == 'RandomResizedCrop' else t
                  for t in _base_.train_pipeline]
test_pipeline = [
    dict(t, scale=int(256 / 224 * image_size)) if t['type'] == 'ResizeEdge' else
    dict(t, crop_size=image_size) if t['type'] == 'CenterCrop' else t for t in _base_.test_pipeline
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
