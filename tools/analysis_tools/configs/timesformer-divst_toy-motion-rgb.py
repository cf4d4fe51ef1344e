# mmaction2's TimeSformer (ViT-B, divided space-time attention) on the toy direction-of-motion clips, with the
# data and schedule of the UniFormer3D toy run, for the side-by-side table (tools/analysis_tools/benchmark_video.py).
_base_ = '../../../configs/mmaction/toy/uniformer3d-s_toy-motion-rgb.py'

model = dict(
    backbone=dict(
        _delete_=True,
        type='TimeSformer',
        num_frames=16,
        img_size=64,
        patch_size=16,
        embed_dims=768,
        attention_type='divided_space_time',
        norm_cfg=dict(type='LN', eps=1e-6)),
    cls_head=dict(_delete_=True, type='TimeSformerHead', num_classes=2, in_channels=768, average_clips='prob'))
