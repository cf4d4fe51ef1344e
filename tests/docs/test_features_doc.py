"""docs/features.md works as written: its Python blocks run in order, and its mmpretrain vis_cam command with
the named target layer draws a Grad-CAM picture."""
import re
import shlex

import mmcv
import numpy as np
import pytest
import torch

from uniformer_mm.apis import build_model_from_config

from helpers import MIM, ROOT, run

DOC = ROOT / 'docs/features.md'


def blocks(language: str) -> list:
    return re.findall(rf'```{language}\n(.*?)```', DOC.read_text(), re.S)


@pytest.fixture
def user_dir(tmp_path, monkeypatch):
    """A directory with the configs and a photo, as the doc's relative paths expect."""
    (tmp_path / 'configs').symlink_to(ROOT / 'configs')
    y, x = np.mgrid[:240, :320]
    mmcv.imwrite(np.stack([x % 256, y, (x + y) % 256], axis=-1).astype(np.uint8), str(tmp_path / 'photo.jpg'))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_doc_has_its_sections():
    text = DOC.read_text()
    assert len(blocks('python')) >= 6 and 'vis_cam' in text and 'visualize_attention.py' in text


@pytest.mark.slow
def test_python_blocks_run_in_order(user_dir):
    namespace = {}
    for block in blocks('python'):
        exec(compile(block, str(DOC), 'exec'), namespace)  # the doc's own asserts check the shapes


@pytest.mark.slow
def test_vis_cam_command_draws_grad_cam(user_dir):
    pytest.importorskip('pytorch_grad_cam')
    command = next(block for block in blocks('shell') if 'vis_cam' in block)
    model = build_model_from_config('configs/mmpretrain/uniformer-small_8xb128_in1k.py')
    torch.save({'state_dict': model.state_dict()}, user_dir / 'small.pth')
    arguments = shlex.split(command.replace('\\\n', ' ').replace('CHECKPOINT', 'small.pth'))
    assert arguments[:2] == ['mim', 'run']
    run([MIM, *arguments[1:]], cwd=user_dir)
    picture = mmcv.imread(str(user_dir / 'cam.png'))
    assert picture.shape[:2] == (224, 224) and picture.std() > 10
