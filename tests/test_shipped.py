"""Shipped configs and files from anywhere: by name, by path, and inherited by a user's own config outside the
repository (uniformer_mm.shipped)."""
import os
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


# ---- hostile names: only files of the shipped tree resolve ------------------------------------------------------
HOSTILE_NAMES = {
    'traversal': 'tools/../../../../etc/passwd',
    'traversal_to_the_repository': 'docs/../setup.py',
    'traversal_out_of_the_package': '../__init__.py',
    'traversal_through_a_config_folder': 'configs/mmdet/../../../setup.py',
    'dot_segment': 'docs/./checkpoints.md',
    'absolute': '/etc/passwd',
    'absolute_shipped_path': str(shipped.CONFIG_ROOT / SEG),
    'nul_byte': 'docs/checkpoints.md\x00',
    'very_long': 'docs/' + 'a' * 5000,
    'empty': '',
    'glob': 'docs/*.md',
    'folder': 'tools/data',
    'the_root': '.',
    'case': 'docs/CHECKPOINTS.md',
    'unicode_look_alike': 'docs/checkpoint\u0455.md',  # CYRILLIC SMALL LETTER DZE for the s
}


@pytest.mark.parametrize('name', HOSTILE_NAMES.values(), ids=HOSTILE_NAMES)
def test_a_hostile_file_name_is_refused(name):
    with pytest.raises(FileNotFoundError, match='ships no file'):
        shipped.shipped_path(name)


@pytest.mark.parametrize('name', [*HOSTILE_NAMES.values(), '../../etc/passwd', 'mmdet/../../../setup.py', 'mmseg',
                                  'mmseg/*', SEG + '\x00', './' + SEG, SEG.upper(), SEG.replace('-s_', '\u2010s_')],
                         ids=[*HOSTILE_NAMES, 'traversal_up', 'traversal_from_a_codebase', 'codebase_folder',
                              'codebase_glob', 'config_nul_byte', 'config_dot_segment', 'config_case',
                              'config_hyphen_look_alike'])
def test_a_hostile_config_name_is_refused(name):
    with pytest.raises(FileNotFoundError, match='ships no config'):
        shipped.config_path(name)


@pytest.mark.parametrize('name, suggested', [
    ('docs/CHECKPOINTS.md', 'docs/checkpoints.md'),
    ('docs/checkpoint\u0455.md', 'docs/checkpoints.md'),
    ('docs/checkpoints.md\x00', 'docs/checkpoints.md'),
    (SEG.upper(), SEG[:-len('.py')]),
    (SEG.replace('-s_', '\u2010s_'), SEG[:-len('.py')]),
])
def test_a_near_miss_is_refused_and_the_shipped_name_suggested(name, suggested):
    find = shipped.shipped_path if name.startswith('docs/') else shipped.config_path
    with pytest.raises(FileNotFoundError, match=f'did you mean {suggested!r}'):
        find(name)


def test_an_error_quotes_a_long_name_cut_short():
    with pytest.raises(FileNotFoundError) as error:
        shipped.config_path('a' * 1_000_000)
    assert len(str(error.value)) < 1000 and '(1000000 characters)' in str(error.value)


def test_cli_refuses_a_traversal_and_prints_no_path(capsys):
    # The CLI sends tools/ and docs/ names to shipped_path, which joined them onto the root: it printed /etc/passwd.
    assert shipped.main(['tools/../../../../etc/passwd']) == 1
    out, err = capsys.readouterr()
    assert out == '' and 'ships no file' in err


@pytest.fixture(params=['clone', 'wheel'])
def planted_tree(request, tmp_path, monkeypatch) -> None:
    """Makes the shipped tree a temporary one with links planted in it that lead out of it, in a clone's layout
    (``.mim/configs`` a link to the repository's ``configs/``) or a wheel's (real folders)."""
    mim, outside = tmp_path / 'package/.mim', tmp_path / 'outside'
    tree = tmp_path / 'repository' if request.param == 'clone' else mim
    configs, docs = tree / 'configs', tree / 'docs'
    (configs / 'mmseg').mkdir(parents=True)
    docs.mkdir()
    outside.mkdir()
    (outside / 'secret.py').write_text('secret')
    (outside / 'secret.md').write_text('secret')
    (configs / 'mmseg/real.py').write_text('real')
    (configs / 'mmseg/alias.py').symlink_to('real.py')  # a link inside the tree stays shipped
    (configs / 'mmseg/escape.py').symlink_to(outside / 'secret.py')
    (configs / 'mmseg/relative_escape.py').symlink_to(os.path.relpath(outside / 'secret.py', configs / 'mmseg'))
    (configs / 'elsewhere').symlink_to(outside, target_is_directory=True)
    (configs / 'mmseg/loop.py').symlink_to('loop.py')
    os.mkfifo(configs / 'mmseg/pipe.py')  # opening it would wait for a writer forever
    (docs / 'guide.md').write_text('guide')
    (docs / 'escape.md').symlink_to(outside / 'secret.md')
    if request.param == 'clone':
        mim.mkdir(parents=True)
        for entry in (configs, docs):
            (mim / entry.name).symlink_to(os.path.relpath(entry, mim), target_is_directory=True)
    monkeypatch.setattr(shipped, 'MIM_ROOT', mim)
    monkeypatch.setattr(shipped, 'CONFIG_ROOT', mim / 'configs')


def test_links_out_of_the_shipped_tree_are_not_shipped(planted_tree):
    assert shipped.list_configs() == ['mmseg/alias.py', 'mmseg/real.py']
    assert sorted(shipped.shipped_files()) == ['configs/mmseg/alias.py', 'configs/mmseg/real.py', 'docs/guide.md']
    assert Path(shipped.config_path('alias')).read_text() == 'real'
    for name in ('escape', 'mmseg/relative_escape', 'elsewhere/secret', 'loop', 'pipe'):
        with pytest.raises(FileNotFoundError, match='ships no config'):
            shipped.config_path(name)
    for name in ('configs/mmseg/escape.py', 'configs/elsewhere/secret.py', 'docs/escape.md',
                 'docs/../../outside/secret.md'):
        with pytest.raises(FileNotFoundError, match='ships no file'):
            shipped.shipped_path(name)
