"""The plugin installed from its wheel into an environment that already has the OpenMMLab stack, used from a
directory outside the repository as README's "Install into an existing OpenMMLab environment" says: the wheel's
tools through ``mim run``, its label files and configs found by ``python -m uniformer_mm.shipped``, a user's own
config inheriting a shipped one trained with ``mim train``, an inferencer taking a shipped config by name, and
``mim search`` / ``mim download``."""
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import torch

from helpers import ROOT, fabricate_official_state_dict, run

pytestmark = pytest.mark.slow  # builds a wheel, mim subprocesses

# What the wheel is built from: the files setup.py reads (configs/, tools/, docs/ through uniformer_mm/.mim's links).
SOURCES = ('setup.py', 'setup.cfg', 'README.md', 'LICENSE', 'NOTICE', 'model-index.yml', 'requirements', 'configs',
           'tools', 'docs', 'uniformer_mm')


def _build_wheel(tmp_path: Path) -> Path:
    """The wheel of the checkout, built from a copy (a build in place would leave build/ in the checkout)."""
    source = tmp_path / 'source'
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():  # links kept (uniformer_mm/.mim); the docs' pictures do not ship
            shutil.copytree(ROOT / name, source / name, symlinks=True,
                            ignore=shutil.ignore_patterns('__pycache__', 'images'))
        else:
            shutil.copy2(ROOT / name, source / name)
    run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-q', source, '-w',
         tmp_path / 'dist'], cwd=tmp_path)
    return next((tmp_path / 'dist').glob('uniformer_mm-*.whl'))


def _environment_with_the_stack(tmp_path: Path, wheel: Path) -> Path:
    """A fresh virtual environment that sees this one's packages (the stack) and has the wheel installed; its
    python. This environment's own uniformer_mm is an editable install through a .pth file, which a plain path
    entry does not run, so the wheel's copy is the only one."""
    env = tmp_path / 'userenv'
    subprocess.run([sys.executable, '-m', 'venv', '--without-pip', env], check=True)
    python = env / 'bin' / 'python'
    site_packages = Path(subprocess.run([python, '-c', 'import sysconfig; print(sysconfig.get_path("purelib"))'],
                                        capture_output=True, text=True, check=True).stdout.strip())
    (site_packages / 'openmmlab_stack.pth').write_text(sysconfig.get_path('purelib') + '\n')
    run([sys.executable, '-m', 'pip', '--python', python, 'install', '--no-deps', '--no-index', '-q', wheel],
        cwd=tmp_path)
    return python


def test_wheel_installed_into_an_existing_stack_works_from_anywhere(tmp_path):
    wheel = _build_wheel(tmp_path)
    python = _environment_with_the_stack(tmp_path, wheel)
    home = tmp_path / 'home'  # the user's directory, outside the repository
    home.mkdir()

    def mim(*args, env=None):
        return run([python, '-m', 'mim', *args], cwd=home, env=env)

    # The wheel's configs and files, not the checkout's.
    config_root, release_labels, mmaction_labels, checkpoint_docs = run(
        [python, '-m', 'uniformer_mm.shipped', '--root', 'tools/data/kinetics/label_map_k400_uniformer_release.txt',
         'tools/data/kinetics/label_map_k400.txt', 'docs/checkpoints.md'], cwd=home).split()[-4:]
    package = Path(config_root).parents[1]
    assert ROOT not in package.parents and package.parent.name == 'site-packages'
    assert all(Path(path).is_relative_to(package) for path in (release_labels, mmaction_labels, checkpoint_docs))

    # An official Kinetics-400 checkpoint converted with the wheel's tool and label files.
    torch.save(dict(model_state=fabricate_official_state_dict('video_small_k400')), home / 'k400.pth')
    output = mim('run', 'uniformer_mm', 'convert_checkpoint', 'slowfast-video', 'k400.pth', 'k400_mmaction.pth',
                 '--src-labels', release_labels, '--dst-labels', mmaction_labels)
    assert 'arch small, 400 classes' in output and 'classes reordered' in output
    assert str(package / '.mim' / 'tools' / 'convert_checkpoint.py') in output

    # The user's own config, here, inherits the shipped toy recipe and trains with the wheel's tools/train.py.
    mim('run', 'uniformer_mm', 'generate_toy_classes', 'data/toy_classes', '--train', '2', '--val', '1',
        '--size', '64')
    (home / 'my_classes.py').write_text(
        "_base_ = '{{$UNIFORMER_MM_CONFIGS:}}/mmpretrain/toy/uniformer-small_toy-shapes-96px.py'\n"
        'model = dict(backbone=dict(init_cfg=None))  # from scratch: nothing to download\n'
        'image_size = 64\n'
        'train_dataloader = dict(batch_size=6, num_workers=0, persistent_workers=False)\n'
        'val_dataloader = dict(batch_size=3, num_workers=0, persistent_workers=False)\n'
        'test_dataloader = val_dataloader\n'
        'param_scheduler = []\n'
        'train_cfg = dict(max_epochs=1, val_interval=1)\n'
        'default_hooks = dict(checkpoint=dict(save_optimizer=False), logger=dict(interval=1))\n')
    with_root = dict(UNIFORMER_MM_CONFIGS=config_root)
    output = mim('train', 'uniformer_mm', 'my_classes.py', '--work-dir', 'work', env=with_root)
    assert 'accuracy/top1' in output and (home / 'work' / 'epoch_1.pth').is_file()

    # The trained model exported to ONNX with the wheel's tool.
    output = mim('run', 'uniformer_mm', 'pytorch2onnx', 'my_classes.py', 'work/epoch_1.pth', '--part', 'model',
                 '--static', '--shape', '1', '3', '64', '64', '--output-file', 'my_classes.onnx', env=with_root)
    assert 'relative error' in output and (home / 'my_classes.onnx').stat().st_size > 1e6

    # An inferencer takes a shipped config by name (the package imported is the wheel's).
    output = run([python, '-c', (
        'import uniformer_mm\n'
        'from mmpretrain.apis import ImageClassificationInferencer\n'
        'from uniformer_mm.shipped import config_path\n'
        "inferencer = ImageClassificationInferencer(config_path('uniformer-small_toy-shapes-96px'), "
        "pretrained='work/epoch_1.pth')\n"
        "print('package:', uniformer_mm.__file__)\n"
        "print('predicted:', inferencer('data/toy_classes/val/disc/000000.jpg')[0]['pred_class'])")], cwd=home)
    assert f"package: {package / '__init__.py'}" in output
    assert output.split('predicted: ')[1].split()[0] in ('square', 'disc', 'triangle')

    # mim search lists the zoo; mim download of a row without weights fails in openmim, as README says.
    output = mim('search', 'uniformer_mm', '--model', 'uniformer')
    assert 'upernet_uniformer-s-h14_8xb2-160k_ade20k-512x512' in output
    result = subprocess.run([python, '-m', 'mim', 'download', 'uniformer_mm', '--config',
                             'upernet_uniformer-s-h14_8xb2-160k_ade20k-512x512', '--dest', 'downloads'],
                            cwd=home, capture_output=True, text=True)
    assert result.returncode != 0 and "AttributeError: 'float' object has no attribute 'split'" in result.stderr
