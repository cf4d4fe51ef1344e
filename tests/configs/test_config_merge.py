"""Sharing recipe blocks between configs (``_base_`` files) must not change what any config means.

For every config, tests/data/merged_configs.json pins what the config sets on top of the codebase configs it
inherits (``mmdet::...``, ``mmseg::...``): each value of the fully merged config that differs from, or is absent
in, the merge of those upstream configs alone, keyed by its JSON pointer (``/model/backbone``). Upstream defaults
that a config leaves alone are not pinned, so a new mmdet or mmseg release does not fail this test.

Regenerate entries only for an intended change of meaning, or to add a new config:
``python tests/configs/test_config_merge.py --write [CONFIG ...]`` (paths relative to the repository root; no
paths rewrites every entry; entries of configs that no longer exist are dropped).
"""
import functools
import json
import sys
from pathlib import Path

import pytest
from mmengine.config import Config

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = ROOT / 'tests' / 'data' / 'merged_configs.json'


def config_files() -> list:
    """Every config a user runs: the codebase folders' configs (not their ``_base_`` fragments, not the deployment
    configs) and the comparison configs of the analysis tools."""
    configs = [p for p in (ROOT / 'configs').rglob('*.py') if '_base_' not in p.parts and 'mmdeploy' not in p.parts]
    configs += (ROOT / 'tools' / 'analysis_tools' / 'configs').glob('*.py')
    return sorted(str(p.relative_to(ROOT)) for p in configs)


def canonical(value):
    """A JSON-ready copy of a merged config: dicts with string keys, tuples as lists; anything else by repr."""
    if isinstance(value, dict):
        return {str(key): canonical(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical(item) for item in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return f'<{type(value).__name__}> {value!r}'


def _merged(path: Path) -> dict:
    return json.loads(json.dumps(canonical(Config.fromfile(str(path)).to_dict()), sort_keys=True))


def upstream_bases(path: Path) -> tuple:
    """The codebase configs (``mmdet::...``) that a config's chain of local ``_base_`` files ends in, in merge
    order."""
    bases = ()
    for base in Config._get_base_files(str(path)):
        bases += (base, ) if '::' in base else upstream_bases((path.parent / base).resolve())
    return bases


@functools.lru_cache(maxsize=None)
def _upstream(bases: tuple) -> dict:
    if not bases:
        return {}
    return json.loads(json.dumps(canonical(Config.fromstring(f'_base_ = {list(bases)!r}\n', '.py').to_dict()),
                                 sort_keys=True))


def _pointer(parent: str, key: str) -> str:
    return f"{parent}/{key.replace('~', '~0').replace('/', '~1')}"


def overrides(config: str) -> dict:
    """``{JSON pointer: value}`` of what configs/<config> sets on top of its upstream configs.

    A dict is compared key by key while it keeps the upstream ``type`` and every upstream key; otherwise (another
    ``type``, a ``_delete_``, a list, a plain value) the config's whole value is pinned.
    """
    path = ROOT / config
    found = {}

    def walk(ours, theirs, pointer):
        if isinstance(ours, dict) and isinstance(theirs, dict) and ours.get('type') == theirs.get('type') \
                and set(theirs) <= set(ours):
            for key, value in ours.items():
                if key not in theirs or value != theirs[key]:
                    walk(value, theirs.get(key), _pointer(pointer, key))
        else:
            found[pointer] = ours

    walk(_merged(path), _upstream(upstream_bases(path)), '')
    return found


def first_difference(actual, expected, pointer):
    """Where two canonical values first differ, with both values; None if equal."""
    if isinstance(actual, dict) and isinstance(expected, dict):
        for key in sorted(set(actual) | set(expected)):
            if key not in actual:
                return f'{_pointer(pointer, key)}: missing now (snapshot has {expected[key]!r})'
            if key not in expected:
                return f'{_pointer(pointer, key)}: new (not in the snapshot), now {actual[key]!r}'
            found = first_difference(actual[key], expected[key], _pointer(pointer, key))
            if found:
                return found
        return None
    if isinstance(actual, list) and isinstance(expected, list):
        if len(actual) != len(expected):
            return f'{pointer}: {len(actual)} items now, {len(expected)} in the snapshot: {actual!r} != {expected!r}'
        for index, (left, right) in enumerate(zip(actual, expected)):
            found = first_difference(left, right, f'{pointer}/{index}')
            if found:
                return found
        return None
    if actual != expected or type(actual) is not type(expected):
        return f'{pointer}: now {actual!r}, snapshot {expected!r}'
    return None


def load_snapshot() -> dict:
    return json.loads(SNAPSHOT.read_text())


def snapshot_text(snapshot: dict) -> str:
    """The snapshot as JSON with one line per pinned value, so that a change shows as the lines of its values."""
    entries = []
    for config, pinned in sorted(snapshot.items()):
        values = [f'  {json.dumps(key)}: {json.dumps(pinned[key], sort_keys=True)}' for key in sorted(pinned)]
        entries.append(f' {json.dumps(config)}: {{\n' + ',\n'.join(values) + '\n }')
    return '{\n' + ',\n'.join(entries) + '\n}\n'


def test_snapshot_covers_every_config():
    snapshot, configs = set(load_snapshot()), set(config_files())
    assert not configs - snapshot, f'configs without a snapshot entry (add them with --write): {configs - snapshot}'
    assert not snapshot - configs, f'snapshot entries of configs removed or renamed: {snapshot - configs}'


@pytest.mark.slow
@pytest.mark.parametrize('config', config_files())
def test_merged_config_is_unchanged(config):
    actual, expected = overrides(config), load_snapshot()[config]
    for pointer in sorted(set(actual) | set(expected)):
        assert pointer in actual, f'{config}: {pointer} is no longer set (snapshot: {expected[pointer]!r})'
        assert pointer in expected, f'{config}: {pointer} is newly set, to {actual[pointer]!r}'
        difference = first_difference(actual[pointer], expected[pointer], pointer)
        assert difference is None, f'{config}: merged content changed at {difference}'


if __name__ == '__main__':
    if sys.argv[1:2] != ['--write']:
        sys.exit(__doc__)
    configs = config_files()
    # Entries of configs that no longer exist go; the others keep their pinned content unless named.
    snapshot = {config: pinned for config, pinned in load_snapshot().items() if config in configs}
    snapshot.update({config: overrides(config) for config in sys.argv[2:] or configs})
    SNAPSHOT.write_text(snapshot_text(snapshot))
    print(f'wrote {SNAPSHOT.relative_to(ROOT)} ({len(snapshot)} configs)')
