# Fine-tuning on your own video classes, at toy size: the UniFormer-S 16x4 Kinetics-400 recipe, its backbone
# initialised from a converted Kinetics-400 checkpoint, on the generated direction-of-motion clips
# (tools/dataset_converters/generate_toy_video.py, mmaction2's rawframe layout). As the config of docs/finetune.md's
# "Fine-tune on your own videos", with the toy data: the head gets 2 classes (mixup / cutmix follow it), the CPU
# settings, a short schedule (the recipe's warm-up scales with it). Convert the checkpoint first:
#   python tools/convert_checkpoint.py slowfast-video uniformer_small_k400_16x8.pth checkpoints/uniformer3d-s_k400.pth
# (`python demo/toy_demo.py video` runs it all, with a stand-in where the released file cannot be downloaded).
_base_ = '../_base_/uniformer3d-s_toy-motion-data.py'

# The backbone loads strictly and leaves the 400-class classifier out (the log says so); the new head starts
# from scratch.
model = dict(
    backbone=dict(init_cfg=dict(type='Pretrained', checkpoint='checkpoints/uniformer3d-s_k400.pth')),
    cls_head=dict(num_classes=2))

# Full precision (mixed precision needs a GPU), the recipe's AdamW at 1e-4, 6 epochs.
optim_wrapper = dict(type='OptimWrapper')
train_cfg = dict(max_epochs=6, val_interval=6)
default_hooks = dict(checkpoint=dict(interval=6, max_keep_ckpts=1), logger=dict(interval=5))
