# UniFormer-S with 16 uniformly sampled frames on Something-Something V1, fine-tuned from the official
# Kinetics-400 16x4 checkpoint (57.2 top-1 published, 3 crops x 1 clip): the Something-Something V2 recipe
# on V1's extracted frames (mmaction2's rawframe layout; V1 has the same 174 classes).
_base_ = './uniformer3d-s_k400-pre_8xb8-u16-200e_sthv2-rgb.py'

dataset_type = 'RawframeDataset'
data_root = 'data/sthv1/rawframes'
ann_file_train = 'data/sthv1/sthv1_train_list_rawframes.txt'
ann_file_val = 'data/sthv1/sthv1_val_list_rawframes.txt'
filename_tmpl = '{:05}.jpg'

# The V2 video pipelines on decoded frames: no DecordInit, RawFrameDecode for DecordDecode (3-crop testing alike).
train_pipeline, val_pipeline, test_pipeline = (
    [dict(type='RawFrameDecode') if step['type'] == 'DecordDecode' else dict(step)
     for step in pipeline if step['type'] != 'DecordInit']
    for pipeline in (_base_.train_pipeline, _base_.val_pipeline, _base_.test_pipeline))
train_dataloader, val_dataloader, test_dataloader = (
    dict(
        dataset=dict(
            type=dataset_type,
            ann_file=ann_file,
            data_prefix=dict(img=data_root),
            filename_tmpl=filename_tmpl,
            pipeline=pipeline))
    for ann_file, pipeline in ((ann_file_train, train_pipeline), (ann_file_val, val_pipeline),
                               (ann_file_val, test_pipeline)))
