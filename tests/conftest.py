import os

import pytest
import torch
from mmengine.registry import DefaultScope

# Under pytest-xdist (tools/test.sh runs the tiers on both cores) each worker computes on one thread, and so do the
# processes its tests start, so that two workers do not fight over the two cores.
if os.environ.get('PYTEST_XDIST_WORKER'):
    os.environ['OMP_NUM_THREADS'] = '1'
    torch.set_num_threads(1)


def pytest_collection_modifyitems(items):
    """Tests marked ``long`` (minutes each) first, the rest in collection order: the workers share out the short
    tests at the end instead of one of them waiting while the other runs a long one (tools/test.sh)."""
    items.sort(key=lambda item: item.get_closest_marker('long') is None)


@pytest.fixture(autouse=True)
def _deterministic():
    torch.manual_seed(0)
    yield


@pytest.fixture(autouse=True)
def _default_scope_left_as_found():
    """A Runner or an inferencer makes its codebase mmengine's process-wide default scope, and mmpretrain's
    inferencer builds its pipeline in whatever scope is current: each test gets back the scopes it found, so that
    none depends on which tests ran before it in the same worker."""
    scopes = dict(DefaultScope._instance_dict)
    yield
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(scopes)
