# The light UniFormer-XXS Kinetics recipe (token pruning, two heads) on the generated direction-of-motion clips:
# the S toy config with the backbone and head of configs/mmaction/uniformer3d-xxs_in1k-pre_8xb32-u16-110e_
# kinetics400-rgb-160px.py, random initial weights (16 frames of 64x64 as in the S toy run).
_base_ = './uniformer3d-s_toy-motion-rgb.py'

custom_imports = dict(imports=[*_base_.custom_imports.imports, 'uniformer_mm.models.heads.recognition'],
                      allow_failed_imports=False)
model = dict(
    backbone=dict(arch='xxs', with_cls_token=True, drop_path_rate=0.),
    cls_head=dict(_delete_=True, type='UniFormerLightHead', in_channels=448, num_classes=2, average_clips='prob'))
