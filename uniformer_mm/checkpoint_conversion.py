"""Converting official UniFormer checkpoints into whole OpenMMLab 2.0 model checkpoints.

``init_cfg`` loads the backbone part of any official checkpoint; these conversions also carry the classifier,
so that ``mim test ... --checkpoint`` evaluates an official model as released.
"""
from typing import Dict, Mapping

from .models.backbones.checkpoint_loading import (describe_layout, extract_state_dict, load_state_dict_strictly,
                                                 read_depths)
from .models.backbones.uniformer import UniFormer3D


def slowfast_video_to_mmaction(checkpoint: Mapping) -> Dict[str, dict]:
    """An official Kinetics checkpoint (PySlowFast, ``{'model_state': ...}``) as an mmaction2 Recognizer3D one.

    The backbone goes under ``backbone.`` and the classifier ``head`` becomes the I3DHead's ``cls_head.fc_cls``.
    The backbone part is checked by loading it strictly into the UniFormer3D its depths name.
    """
    state_dict, _ = extract_state_dict(checkpoint)
    if 'head.weight' not in state_dict:
        raise ValueError('not a classification checkpoint: no head.weight; found a backbone with '
                         + describe_layout(state_dict))
    backbone = {k: v for k, v in state_dict.items() if not k.startswith('head.')}
    archs = {tuple(s['depths']): name for name, s in UniFormer3D.arch_zoo.items()}
    depths = read_depths(backbone)
    if depths not in archs:
        raise ValueError(f'no UniFormer3D arch has depths {depths}; known: {sorted(archs)}')
    load_state_dict_strictly(UniFormer3D(arch=archs[depths]), backbone, lambda missing, unexpected: {},
                             source='the converted backbone')
    converted = {f'backbone.{k}': v for k, v in backbone.items()}
    converted['cls_head.fc_cls.weight'] = state_dict['head.weight']
    converted['cls_head.fc_cls.bias'] = state_dict['head.bias']
    return dict(state_dict=converted, meta=dict(converted_from='PySlowFast UniFormer', arch=archs[depths],
                                                num_classes=int(state_dict['head.weight'].shape[0])))
