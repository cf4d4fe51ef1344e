# UniFormer-S 16x4 on Kinetics-600 from ImageNet-1K (82.8 top-1 published): the Kinetics-400 recipe with 600 classes.
_base_ = './uniformer3d-s_in1k-pre_8xb8-16x4x1-200e_kinetics400-rgb.py'

num_classes = 600
model = dict(
    cls_head=dict(num_classes=num_classes),
    data_preprocessor=dict(blending=dict(augments=[
        dict(augment, num_classes=num_classes) for augment in _base_.model.data_preprocessor.blending.augments])))

data_root = 'data/kinetics600/videos_train'
data_root_val = 'data/kinetics600/videos_val'
ann_file_train = 'data/kinetics600/kinetics600_train_list_videos.txt'
ann_file_val = 'data/kinetics600/kinetics600_val_list_videos.txt'
train_dataloader = dict(dataset=dict(ann_file=ann_file_train, data_prefix=dict(video=data_root)))
val_dataloader = dict(dataset=dict(ann_file=ann_file_val, data_prefix=dict(video=data_root_val)))
test_dataloader = dict(dataset=dict(ann_file=ann_file_val, data_prefix=dict(video=data_root_val)))
