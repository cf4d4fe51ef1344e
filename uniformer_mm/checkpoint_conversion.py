"""Converting official UniFormer checkpoints into whole OpenMMLab 2.0 model checkpoints.

``init_cfg`` loads the backbone part of any official checkpoint; these conversions carry the whole model (heads,
necks, classifier), so that ``mim test ... --checkpoint`` evaluates an official model as released.
"""
from typing import Dict, List, Mapping

import torch.nn as nn
from mmengine.logging import print_log

from .models.backbones.checkpoint_loading import (CheckpointMismatchError, describe_layout, extract_state_dict,
                                                 format_keys, group_by_reason, load_state_dict_strictly,
                                                 read_depths)
from .models.backbones.uniformer import UniFormer3D, UniFormerBase


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


def openmmlab1_to_openmmlab2(checkpoint: Mapping, model: nn.Module) -> Dict[str, dict]:
    """A reference-release downstream checkpoint (mmdet 2.x, mmseg 0.x, mmpose 0.x) as one of ``model``.

    The official COCO / ADE20K / pose releases are OpenMMLab 1.x checkpoints (``{'state_dict': ..., 'meta': ...}``)
    of the whole model. Their tensors are loaded into ``model``, built from the matching OpenMMLab 2.0 config,
    through its own ``load_state_dict``, so the renames OpenMMLab 2.0 ships as load hooks apply (mmpose 1.x:
    ``keypoint_head.`` -> ``head.``, and the old ``final_layer`` split); mmdet 3.x and mmseg 1.x kept the key
    names of these models. Every tensor must then have found its place and every model tensor must have been
    filled, or :class:`CheckpointMismatchError` names the keys. The one explained exception: output norms of
    backbone stages the config does not output (the pose releases store ``norm1``..``norm4`` and use ``norm4``)
    are left out, and logged.

    Args:
        checkpoint (Mapping): What ``torch.load`` returned for the official file.
        model (nn.Module): The OpenMMLab 2.0 model (e.g. ``MODELS.build(cfg.model)``); it receives the weights.

    Returns:
        dict: ``{'state_dict': ..., 'meta': ...}`` in the new layout; ``meta.dataset_meta.classes`` carries the
        old ``meta.CLASSES`` when present.
    """
    if not isinstance(checkpoint, Mapping) or not isinstance(checkpoint.get('state_dict'), Mapping):
        found = sorted(checkpoint) if isinstance(checkpoint, Mapping) else type(checkpoint).__name__
        raise CheckpointMismatchError(
            f"an OpenMMLab 1.x checkpoint keeps its tensors under 'state_dict'; found {found}")
    state_dict = {k[len('module.'):] if k.startswith('module.') else k: v
                  for k, v in checkpoint['state_dict'].items()}
    try:
        result = model.load_state_dict(state_dict, strict=False)
    except RuntimeError as error:  # torch lists every tensor whose shape differs
        raise CheckpointMismatchError(
            f'{error}\nThe checkpoint backbone has {describe_layout(_backbone_part(state_dict))}; the model has '
            f'{describe_layout(_backbone_part(model.state_dict()))}.') from error
    # The official pose models keep the output norms of all four stages but use only the last one.
    unused = _unused_by_backbone(model, result.unexpected_keys)
    unexpected = [k for k in result.unexpected_keys if k not in unused]
    if result.missing_keys or unexpected:
        problems = []
        if result.missing_keys:
            problems.append(f'missing from the checkpoint: {format_keys(result.missing_keys)}')
        if unexpected:
            problems.append(f'not in the model: {format_keys(unexpected)}')
        raise CheckpointMismatchError(f'the checkpoint does not fit {type(model).__name__}:\n  '
                                      + '\n  '.join(problems) + '\nIs the config the one the checkpoint was '
                                      'trained with (arch, head, number of classes)?')
    for reason, keys in group_by_reason(unused).items():
        print_log(f'left out {format_keys(keys)} ({reason})', logger='current')
    meta = dict(converted_from='OpenMMLab 1.x')
    old_meta = checkpoint.get('meta') or {}
    if old_meta.get('CLASSES') is not None:
        meta['dataset_meta'] = dict(classes=tuple(old_meta['CLASSES']))
    return dict(state_dict=model.state_dict(), meta=meta)


def _unused_by_backbone(model: nn.Module, unexpected: List[str]) -> Dict[str, str]:
    """``{key: reason}`` for the unexpected ``backbone.`` keys a UniFormer backbone explains as unused."""
    backbone = getattr(model, 'backbone', None)
    if not isinstance(backbone, UniFormerBase):
        return {}
    inner = [k[len('backbone.'):] for k in unexpected if k.startswith('backbone.')]
    return {f'backbone.{k}': reason for k, reason in backbone._expected_load_gaps([], inner).items()}


def _backbone_part(state_dict: Mapping) -> Dict:
    return {k[len('backbone.'):]: v for k, v in state_dict.items() if k.startswith('backbone.')}
