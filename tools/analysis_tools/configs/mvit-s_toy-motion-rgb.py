# mmaction2's MViTv2-S on the toy direction-of-motion clips, with the data and schedule of the UniFormer3D toy
# run, for the side-by-side table (tools/analysis_tools/benchmark_video.py).
_base_ = '../../../configs/mmaction/toy/uniformer3d-s_toy-motion-rgb.py'

model = dict(
    backbone=dict(_delete_=True, type='MViT', arch='small', spatial_size=64, temporal_size=16, drop_path_rate=0.2),
    cls_head=dict(
        _delete_=True, type='MViTHead', in_channels=768, num_classes=2, label_smooth_eps=0.1, average_clips='prob'))
