"""Shipped configs and files from anywhere: by name, by path, and inherited by a user's own config outside the
repository (uniformer_mm.shipped)."""
from pathlib import Path

import pytest
from mmengine.config import Config

from uniformer_mm import shipped

from helpers import ROOT

SEG = 'mmseg/upernet_uniformer-s_8xb2-160k_ade20k-512x512.py'


@pytest.mark.parametrize('name', [SEG, SEG[:-3], 'configs/' + SEG, Path(SEG).stem, Path(SEG).name])
def test_a_config_is_found_by_its_path_or_its_mim_name(name):
    path = Path(shipped.config_path(name))
    assert path.is_absolute() and path.read_text() == (ROOT / 'configs' / SEG).read_text()


def test_the_list_is_the_repositorys_configs_without_base_recipes():
    listed = shipped.list_configs()
    assert SEG in listed and 'mmaction/toy/uniformer3d-xxs_toy-motion-rgb.py' in listed
    assert not any('_base_' in name for name in listed)
    assert len(listed) == len([p for p in (ROOT / 'configs').rglob('*.py') if '_base_' not in p.parts])


def test_a_typo_gets_the_closest_names():
    with pytest.raises(FileNotFoundError, match=r"did you mean 'upernet_uniformer-s_8xb2-160k_ade20k-512x512'"):
        shipped.config_path('upernet_uniformer-s_8xb2-160k_ade20k')


def test_the_docs_the_error_messages_name_ship_too():
    assert Path(shipped.shipped_path('docs/checkpoints.md')).read_text() == (ROOT / 'docs/checkpoints.md').read_text()


def test_label_files_ship_with_the_tools():
    labels = Path(shipped.shipped_path('tools/data/kinetics/label_map_k400.txt')).read_text().splitlines()
    assert len(labels) == 400 and labels[0] == 'abseiling'
    with pytest.raises(FileNotFoundError, match='ships no file'):
        shipped.shipped_path('tools/data/kinetics/label_map_k700.txt')


def test_cli_prints_paths_and_fails_on_unknown_names(capsys):
    assert shipped.main(['--root', Path(SEG).stem, 'tools/convert_checkpoint.py']) == 0
    root, config, tool = capsys.readouterr().out.splitlines()
    assert Path(root) == shipped.CONFIG_ROOT and Path(config) == shipped.CONFIG_ROOT / SEG
    assert Path(tool).read_text() == (ROOT / 'tools' / 'convert_checkpoint.py').read_text()
    assert shipped.main(['no_such_config']) == 1
    assert 'ships no config' in capsys.readouterr().err


def test_a_users_config_elsewhere_inherits_a_shipped_one(tmp_path, monkeypatch):
    # As README says: export UNIFORMER_MM_CONFIGS=$(python -m uniformer_mm.shipped --root)
    monkeypatch.setenv(shipped.CONFIG_ROOT_VARIABLE, str(shipped.CONFIG_ROOT))
    mine = tmp_path / 'my_seg.py'
    mine.write_text(f"_base_ = '{{{{${shipped.CONFIG_ROOT_VARIABLE}:}}}}/{SEG}'\n"
                    'model = dict(decode_head=dict(num_classes=5))\n')
    cfg = Config.fromfile(str(mine))
    assert cfg.model.backbone.type == 'UniFormer2D' and cfg.model.decode_head.num_classes == 5
    assert cfg.custom_imports['imports'] == ['uniformer_mm'] and cfg.default_scope == 'mmseg'

    monkeypatch.delenv(shipped.CONFIG_ROOT_VARIABLE)
    with pytest.raises(KeyError, match=shipped.CONFIG_ROOT_VARIABLE):
        Config.fromfile(str(mine))


def test_every_zoo_row_says_where_its_weights_are(capsys):
    # mim download stops on rows without Weights (openmim 0.3.9); --weights answers for every row.
    unreleased = shipped.describe_weights('upernet_uniformer-s-h14_8xb2-160k_ade20k-512x512')
    assert 'no released file' in unreleased and 'train the config instead' in unreleased
    by_hand = shipped.describe_weights('upernet_uniformer-s_8xb2-160k_ade20k-512x512')
    assert 'mim download cannot fetch it' in by_hand and 'convert_checkpoint.py openmmlab1' in by_hand
    assert 'https://huggingface.co/lllyasviel/Annotators/resolve/main/upernet_global_small.pth' in by_hand
    downloadable = shipped.describe_weights('uniformer-small_8xb128_in1k')
    assert 'mim download uniformer_mm --config uniformer-small_8xb128_in1k fetches' in downloadable
    assert downloadable.count('uniformer_small_in1k:') == 1
    assert 'not a model-zoo config' in shipped.describe_weights('mmpretrain/toy/uniformer-small_toy-shapes-96px')
    assert shipped.main(['--weights', 'uniformer-small_8xb128_in1k']) == 0
    assert capsys.readouterr().out == downloadable + '\n'
