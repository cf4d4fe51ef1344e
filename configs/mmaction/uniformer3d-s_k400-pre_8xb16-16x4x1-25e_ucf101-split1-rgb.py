# UniFormer-S 16x4 on UCF101 (split 1), fine-tuned from the official Kinetics-400 16x4 checkpoint: the HMDB51
# fine-tuning recipe on UCF101.
_base_ = './uniformer3d-s_k400-pre_8xb16-16x4x1-25e_hmdb51-split1-rgb.py'

# The blending (mixup / cutmix) takes the head's number of classes.
model = dict(cls_head=dict(num_classes=101))

data_root = 'data/ucf101/videos'
ann_file_train = 'data/ucf101/ucf101_train_split_1_videos.txt'
ann_file_val = 'data/ucf101/ucf101_val_split_1_videos.txt'
train_dataloader = dict(dataset=dict(ann_file=ann_file_train, data_prefix=dict(video=data_root)))
val_dataloader = dict(dataset=dict(ann_file=ann_file_val, data_prefix=dict(video=data_root)))
test_dataloader = dict(dataset=dict(ann_file=ann_file_val, data_prefix=dict(video=data_root)))
