import os

import pytest
import torch

# Under pytest-xdist (tools/test.sh runs the tiers on both cores) each worker computes on one thread, and so do the
# processes its tests start, so that two workers do not fight over the two cores.
if os.environ.get('PYTEST_XDIST_WORKER'):
    os.environ['OMP_NUM_THREADS'] = '1'
    torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _deterministic():
    torch.manual_seed(0)
    yield
