"""Sharing recipe blocks between configs (``_base_`` files, sibling inheritance) must not change what any config
means: every config's fully merged content equals the snapshot taken before the configs were deduplicated
(tests/data/merged_configs.json, keyed by the path relative to configs/).

Regenerate the snapshot only for an intended change of meaning: ``python tests/test_config_merge.py --write``.
"""
import json
import sys
from pathlib import Path

import pytest
from mmengine.config import Config

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / 'configs'
SNAPSHOT = ROOT / 'tests' / 'data' / 'merged_configs.json'

# Every non-_base_ config that existed when the snapshot was taken; configs added later are not covered by it.
SNAPSHOT_CONFIGS = sorted([
    'mmaction/toy/mvit-s_toy-motion-rgb.py',
    'mmaction/toy/timesformer-divst_toy-motion-rgb.py',
    'mmaction/toy/uniformer3d-s_toy-motion-rgb.py',
    'mmaction/uniformer3d-b_in1k-pre_8xb8-16x4x1-200e_kinetics400-rgb.py',
    'mmaction/uniformer3d-b_in1k-pre_8xb8-16x4x1-200e_kinetics600-rgb.py',
    'mmaction/uniformer3d-b_in1k-pre_8xb8-32x4x1-200e_kinetics400-rgb.py',
    'mmaction/uniformer3d-b_in1k-pre_8xb8-8x8x1-200e_kinetics400-rgb.py',
    'mmaction/uniformer3d-b_k400-pre_8xb8-u32-200e_sthv2-rgb.py',
    'mmaction/uniformer3d-s_in1k-pre_8xb8-16x4x1-200e_kinetics400-rgb.py',
    'mmaction/uniformer3d-s_in1k-pre_8xb8-16x4x1-200e_kinetics600-rgb.py',
    'mmaction/uniformer3d-s_in1k-pre_8xb8-32x4x1-200e_kinetics400-rgb.py',
    'mmaction/uniformer3d-s_in1k-pre_8xb8-8x8x1-200e_kinetics400-rgb.py',
    'mmaction/uniformer3d-s_k400-pre_8xb8-u16-200e_sthv2-rgb.py',
    'mmdet/cascade-mask-rcnn_uniformer-b-h14_fpn_4conv1fc-giou_ms-crop-3x_coco.py',
    'mmdet/cascade-mask-rcnn_uniformer-s-h14_fpn_4conv1fc-giou_ms-crop-3x_coco.py',
    'mmdet/mask-rcnn_uniformer-b-h14_fpn_1x_coco.py',
    'mmdet/mask-rcnn_uniformer-b-h14_fpn_ms-crop-3x_coco.py',
    'mmdet/mask-rcnn_uniformer-s-h14_fpn_1x_coco.py',
    'mmdet/mask-rcnn_uniformer-s-h14_fpn_ms-crop-3x_coco.py',
    'mmdet/toy/mask-rcnn_uniformer-s-h14_fpn_toy-shapes.py',
    'mmpose/td-hm_uniformer-b_8xb128-210e_coco-256x192.py',
    'mmpose/td-hm_uniformer-b_8xb32-210e_coco-384x288.py',
    'mmpose/td-hm_uniformer-s_8xb128-210e_coco-256x192.py',
    'mmpose/td-hm_uniformer-s_8xb128-210e_coco-384x288.py',
    'mmpose/toy/td-hm_uniformer-s_toy-figures-128x96.py',
    'mmseg/fpn_uniformer-b-h14_8xb4-80k_ade20k-512x512.py',
    'mmseg/fpn_uniformer-s-h14_8xb4-80k_ade20k-512x512.py',
    'mmseg/toy/fpn_uniformer-s-h14_toy-shapes-160x160.py',
    'mmseg/upernet_uniformer-b-h14_8xb2-160k_ade20k-512x512.py',
    'mmseg/upernet_uniformer-s-h14_8xb2-160k_ade20k-512x512.py',
    'mmseg/upernet_uniformer-s_8xb2-160k_ade20k-512x512.py',
    'uniformer_maskrcnn.py',
])


def canonical(value):
    """A JSON-ready copy of a merged config: dicts with string keys, tuples as lists; anything else by repr."""
    if isinstance(value, dict):
        return {str(key): canonical(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical(item) for item in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return f'<{type(value).__name__}> {value!r}'


def merged(config: str) -> dict:
    """The canonical merged content of configs/<config>, as the snapshot stores it."""
    return json.loads(json.dumps(canonical(Config.fromfile(str(CONFIGS / config)).to_dict()), sort_keys=True))


def first_difference(actual, expected, path='cfg'):
    """The key path of the first place where two canonical configs differ, with both values; None if equal."""
    if isinstance(actual, dict) and isinstance(expected, dict):
        for key in sorted(set(actual) | set(expected)):
            if key not in actual:
                return f'{path}.{key}: missing now (snapshot has {expected[key]!r})'
            if key not in expected:
                return f'{path}.{key}: new (not in the snapshot), now {actual[key]!r}'
            found = first_difference(actual[key], expected[key], f'{path}.{key}')
            if found:
                return found
        return None
    if isinstance(actual, list) and isinstance(expected, list):
        if len(actual) != len(expected):
            return f'{path}: {len(actual)} items now, {len(expected)} in the snapshot: {actual!r} != {expected!r}'
        for index, (left, right) in enumerate(zip(actual, expected)):
            found = first_difference(left, right, f'{path}[{index}]')
            if found:
                return found
        return None
    if actual != expected or type(actual) is not type(expected):
        return f'{path}: now {actual!r}, snapshot {expected!r}'
    return None


def load_snapshot() -> dict:
    return json.loads(SNAPSHOT.read_text())


def test_snapshot_covers_every_config_that_existed():
    assert sorted(load_snapshot()) == SNAPSHOT_CONFIGS
    missing = [config for config in SNAPSHOT_CONFIGS if not (CONFIGS / config).is_file()]
    assert not missing, f'configs removed or renamed: {missing}'


@pytest.mark.slow
@pytest.mark.parametrize('config', SNAPSHOT_CONFIGS)
def test_merged_config_is_unchanged(config):
    expected = load_snapshot()[config]
    actual = merged(config)
    difference = first_difference(actual, expected)
    assert difference is None, f'configs/{config}: merged content changed at {difference}'


if __name__ == '__main__':
    if sys.argv[1:] != ['--write']:
        sys.exit(__doc__)
    SNAPSHOT.write_text(json.dumps({config: merged(config) for config in SNAPSHOT_CONFIGS}, indent=1, sort_keys=True)
                        + '\n')
    print(f'wrote {SNAPSHOT} ({len(SNAPSHOT_CONFIGS)} configs)')
