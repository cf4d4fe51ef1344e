# Top-down heatmap pose estimation, UniFormer-B (global stage 3), COCO keypoints 256x192: the
# reference recipe (75.0 AP published).
_base_ = './td-hm_uniformer-s_8xb128-210e_coco-256x192.py'

pretrained = 'checkpoints/uniformer_base_in1k.pth'

model = dict(
    backbone=dict(
        arch='base',
        drop_path_rate=0.4,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained)))
