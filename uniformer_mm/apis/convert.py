"""Converting official UniFormer checkpoints into whole OpenMMLab 2.0 model checkpoints (the library behind
``tools/convert_checkpoint.py``).

``init_cfg`` loads the backbone part of any official checkpoint; these conversions carry the whole model (heads,
necks, classifier), so that ``mim test ... --checkpoint`` evaluates an official model as released.
"""
import re
from collections import Counter
from typing import Dict, List, Mapping, Optional, Sequence

import torch
import torch.nn as nn
from mmengine.logging import print_log

from ..models.backbones.checkpoint_loading import (CheckpointMismatchError, check_fit, check_released_head_dim,
                                                   check_tensor_values, compare_keys, describe_layout,
                                                   extract_state_dict, format_keys, group_by_reason,
                                                   load_state_dict_strictly, read_depths)
from ..models.backbones.uniformer import UniFormer2D, UniFormer3D, UniFormerBase

MAX_LABEL_FILE_BYTES = 4 << 20


def read_class_names(path: str) -> List[str]:
    """Class names from a label file: UTF-8 text (a leading byte-order mark is dropped), one name a line, in
    class-index order, at most :data:`MAX_LABEL_FILE_BYTES`.

    Also reads the release's ``kinetics_400_categroies.txt`` form, ``name<TAB>index``: when every line ends with
    a tab and an integer, the integers give the order and must be 0..N-1. Blank lines are skipped.

    Raises:
        ValueError: The file is too large, not UTF-8, empty, or its indices are not 0..N-1; the message names it.
    """
    with open(path, 'rb') as file:
        raw = file.read(MAX_LABEL_FILE_BYTES + 1)
    if len(raw) > MAX_LABEL_FILE_BYTES:
        raise ValueError(f'{path}: more than {MAX_LABEL_FILE_BYTES} bytes; a label file holds one class name a '
                         'line')
    try:
        text = raw.decode('utf-8-sig')
    except UnicodeDecodeError as error:
        raise ValueError(f'{path}: not UTF-8 text (byte {raw[error.start]:#04x} at offset {error.start}); label '
                         'files are UTF-8, one class name a line') from None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise ValueError(f'{path}: no class names (expected one name a line)')
    indexed = [re.fullmatch(r'(.*\S)\t+(\d+)', line) for line in lines]
    if not all(indexed):
        return lines
    order = {int(match.group(2)): match.group(1) for match in indexed}
    if sorted(order) != list(range(len(lines))):
        raise ValueError(f'{path}: the indices after the names must be 0..{len(lines) - 1}, each once')
    return [order[index] for index in range(len(lines))]


def _comparable(name: str) -> str:
    """A class name as compared across label files: case, quotes and '_' versus space do not count."""
    return ' '.join(re.sub('["\']', '', name).replace('_', ' ').lower().split())


def class_order(src_names: Sequence[str], dst_names: Sequence[str]) -> List[int]:
    """For each class of ``dst_names``, its row in ``src_names``, matched by name (see :func:`_comparable`).

    Raises:
        ValueError: The lists differ in length, a list repeats a name, or names of either list have no match;
            the message lists them.
    """
    keys = {}
    for label, names in (('source', src_names), ('destination', dst_names)):
        comparable = [_comparable(name) for name in names]
        repeated = sorted(name for name, count in Counter(comparable).items() if count > 1)
        if repeated:
            raise ValueError(f'the {label} label file repeats {format_keys(repeated)}')
        keys[label] = comparable
    src_rows = {name: row for row, name in enumerate(keys['source'])}
    dst_keys = set(keys['destination'])
    unmatched_dst = [name for name, key in zip(dst_names, keys['destination']) if key not in src_rows]
    unmatched_src = [name for name, key in zip(src_names, keys['source']) if key not in dst_keys]
    if unmatched_dst or unmatched_src or len(src_names) != len(dst_names):
        raise ValueError(
            f'the label files do not name the same classes ({len(src_names)} source, {len(dst_names)} destination)'
            + (f'; only in the destination: {format_keys(unmatched_dst)}' if unmatched_dst else '')
            + (f'; only in the source: {format_keys(unmatched_src)}' if unmatched_src else ''))
    return [src_rows[key] for key in keys['destination']]


def slowfast_video_to_mmaction(checkpoint: Mapping,
                               src_labels: Optional[str] = None,
                               dst_labels: Optional[str] = None) -> Dict[str, dict]:
    """An official Kinetics checkpoint (PySlowFast, ``{'model_state': ...}``) as an mmaction2 Recognizer3D one.

    The backbone goes under ``backbone.`` and the classifier ``head`` becomes the I3DHead's ``cls_head.fc_cls``;
    the light models' class-token classifier ``head_cls`` and its ``norm_cls`` become ``cls_head.fc_token`` and
    ``cls_head.norm_token`` of :class:`UniFormerLightHead`. The backbone part is checked by loading it strictly
    into the UniFormer3D its depths (and, for the light XXS, its layer scales) name.

    The release orders the Kinetics-400 classes as its ``kinetics_400_categroies.txt``; mmaction2's annotation
    lists use ``label_map_k400.txt`` (alphabetical). Given both label files, the classifier rows are permuted by
    class name from the first order to the second (:func:`class_order`), and the names are stored in
    ``meta.dataset_meta.classes``.

    Args:
        checkpoint (Mapping): What the official file holds.
        src_labels (str, optional): The label file of the checkpoint's class order.
        dst_labels (str, optional): The label file of the order to convert to.
    """
    if (src_labels is None) != (dst_labels is None):
        raise ValueError('give both label files (--src-labels and --dst-labels) or neither')
    state_dict, _ = extract_state_dict(checkpoint)
    if 'head.weight' not in state_dict:
        raise ValueError('not a classification checkpoint: no head.weight; found a backbone with '
                         + describe_layout(state_dict))
    renames = {'head.': 'cls_head.fc_cls.', 'head_cls.': 'cls_head.fc_token.', 'norm_cls.': 'cls_head.norm_token.'}
    backbone = {k: v for k, v in state_dict.items() if not k.startswith(tuple(renames))}
    depths = read_depths(backbone)
    local_scale = any(re.fullmatch(r'blocks1\.\d+\.gamma_1', k) for k in backbone)
    archs = [name for name, settings in UniFormer3D.arch_zoo.items()
             if tuple(settings['depths']) == depths and settings.get('local_layer_scale', False) == local_scale]
    if not archs:
        known = sorted(tuple(settings['depths']) for settings in UniFormer3D.arch_zoo.values())
        raise ValueError(f'no UniFormer3D arch has depths {depths}; known: {known}')
    load_state_dict_strictly(UniFormer3D(arch=archs[0]), backbone, lambda missing, unexpected: {},
                             source='the converted backbone')
    num_classes = int(state_dict['head.weight'].shape[0])
    light = 'head_cls.weight' in state_dict
    meta = dict(converted_from='PySlowFast UniFormer', arch=archs[0], num_classes=num_classes,
                head='UniFormerLightHead' if light else 'I3DHead')
    rows = None
    if src_labels is not None:
        src_names, dst_names = read_class_names(src_labels), read_class_names(dst_labels)
        if len(src_names) != num_classes:
            raise ValueError(f'{src_labels} names {len(src_names)} classes, the classifier has {num_classes}')
        rows = torch.tensor(class_order(src_names, dst_names))
        meta['dataset_meta'] = dict(classes=tuple(dst_names))
    converted = {f'backbone.{k}': v for k, v in backbone.items()}
    for key, value in state_dict.items():
        prefix = next((p for p in renames if key.startswith(p)), None)
        if prefix is None:
            continue
        if rows is not None and prefix != 'norm_cls.':  # classifier rows follow the class order
            value = value[rows]
        converted[renames[prefix] + key[len(prefix):]] = value
    return dict(state_dict=converted, meta=meta)


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
    check_tensor_values(state_dict, model.state_dict(), 'the checkpoint')
    try:
        result = model.load_state_dict(state_dict, strict=False)
    except RuntimeError as error:  # torch lists every tensor whose shape differs
        raise CheckpointMismatchError(
            f'{error}\nThe checkpoint backbone has {describe_layout(_backbone_part(state_dict))}; the model has '
            f'{describe_layout(_backbone_part(model.state_dict()))}.') from error
    # The official pose models keep the output norms of all four stages but use only the last one.
    unused = _unused_by_backbone(model, result.unexpected_keys)
    unexpected = [k for k in result.unexpected_keys if k not in unused]
    check_fit('the checkpoint', type(model).__name__, missing=result.missing_keys, unexpected=unexpected,
              advice='Is the config the one the checkpoint was trained with (arch, head, number of classes)?')
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
    return {f'backbone.{k}': reason for k, reason in backbone.explain_load_gaps([], inner).items()}


def _backbone_part(state_dict: Mapping) -> Dict:
    return {k[len('backbone.'):]: v for k, v in state_dict.items() if k.startswith('backbone.')}


# The ImageNet releases' classifier families: {family: (how to tell its head, the renames of its extra classifier
# parts into the mmpretrain head, which configs to use)}. Every family's ``head`` becomes ``head.fc``.
_CLASSIFIER_FAMILIES = {
    'standard': (None, {}, 'a config without -tl'),
    'token-labeling': ('aux_fc', {'aux_head.': 'head.aux_fc.'}, 'a uniformer-*-tl config'),
    'light': ('fc_token', {'head_cls.': 'head.fc_token.', 'norm_cls.': 'head.norm_token.'},
              'a uniformer-xxs / uniformer-xs config'),
}


def _classifier_family(keys) -> str:
    if any(k.startswith('aux_head.') for k in keys):
        return 'token-labeling'
    return 'light' if any(k.startswith('head_cls.') for k in keys) else 'standard'


def imagenet_to_mmpretrain(checkpoint: Mapping, model: nn.Module, source: str = 'the checkpoint') -> Dict[str, dict]:
    """An official ImageNet classifier (``{'model': ...}``, standard, token-labeling or light release) as a
    checkpoint of ``model``, an mmpretrain ``ImageClassifier`` built from a ``configs/mmpretrain`` config.

    The backbone tensors go under ``backbone.`` (``UniFormer2D(out_norm='batch')`` keeps the release's names,
    its final BatchNorm ``norm`` included); the classifier ``head`` becomes ``head.fc``, the token-labeling
    ``aux_head`` ``head.aux_fc`` of :class:`TokenLabelingClsHead`, and the light models' ``head_cls`` /
    ``norm_cls`` ``head.fc_token`` / ``head.norm_token`` of :class:`UniFormerLightClsHead`. A checkpoint of
    one family into a config of another is refused. Every tensor must find its place
    and fill one of the model, with equal shapes, or :class:`CheckpointMismatchError` says which and why; the
    model receives the weights. head_dim is not stored in a checkpoint; when ``source`` is a released file
    name, its head_dim is compared with the config's.

    Args:
        checkpoint (Mapping): What the official file holds.
        model (nn.Module): The classifier the checkpoint is meant for.
        source (str): The file name, for messages and the head_dim check.

    Returns:
        dict: ``{'state_dict': ..., 'meta': ...}``; with 1000 classes ``meta.dataset_meta.classes`` holds the
        ImageNet class names, so that inferencers print names.
    """
    backbone, head = getattr(model, 'backbone', None), getattr(model, 'head', None)
    if not isinstance(backbone, UniFormer2D) or backbone.out_norm != 'batch' or not hasattr(head, 'fc'):
        raise CheckpointMismatchError(
            "the config's model is not a UniFormer ImageNet classifier (ImageClassifier with "
            "UniFormer2D(out_norm='batch') and a head with an fc layer): use a configs/mmpretrain config")
    state_dict, _ = extract_state_dict(checkpoint)
    if 'head.weight' not in state_dict:
        raise CheckpointMismatchError(f'{source} is not an ImageNet classifier: it has no head.weight; found a '
                                      f'backbone with {describe_layout(state_dict)}')
    family = _classifier_family(state_dict)
    config_family = next((name for name, (layer, _, _) in _CLASSIFIER_FAMILIES.items()
                          if layer is not None and hasattr(head, layer)), 'standard')
    if family != config_family:
        raise CheckpointMismatchError(
            f'{source} is a {family} ImageNet checkpoint but the config\'s head ({type(head).__name__}) is for '
            f'{config_family} checkpoints: use {_CLASSIFIER_FAMILIES[family][2]}')
    head_dim = backbone.arch['head_dim']
    check_released_head_dim(source, head_dim)
    renames = {'head.': 'head.fc.', **_CLASSIFIER_FAMILIES[family][1]}
    converted = {}
    for key, value in state_dict.items():
        prefix = next((p for p in renames if key.startswith(p)), None)
        converted[renames[prefix] + key[len(prefix):] if prefix else f'backbone.{key}'] = value
    own = model.state_dict()
    check_fit(source, "the config's classifier", *compare_keys(own, converted, {}), advice=(
        f'The checkpoint backbone has {describe_layout(state_dict)}; the model has '
        f'{describe_layout(backbone.state_dict())}. Pick the config of the checkpoint\'s arch and classes.'))
    check_tensor_values(converted, own, source)
    model.load_state_dict(converted)
    num_classes = int(state_dict['head.weight'].shape[0])
    meta = dict(converted_from=f'UniFormer ImageNet release ({family})',
                head_dim=head_dim, num_classes=num_classes)
    if num_classes == 1000:
        from mmpretrain.datasets.categories import IMAGENET_CATEGORIES
        meta['dataset_meta'] = dict(classes=tuple(IMAGENET_CATEGORIES))
    return dict(state_dict=model.state_dict(), meta=meta)
