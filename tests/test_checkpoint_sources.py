"""Finding official weights: the released-checkpoint table, init_cfg by name or URL (downloads from a server on
127.0.0.1), and the messages for files that are not there."""
import dataclasses
import functools
import http.server
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import torch

from uniformer_mm import CheckpointFileError, UniFormer2D, checkpoint_routes
from uniformer_mm.checkpoint_routes import cache_path, fetch_checkpoint
from uniformer_mm.checkpoint_sources import (LOAD_ROUTES, RELEASED_CHECKPOINTS, TRAIN_FROM_SCRATCH,
                                             check_pretrained_sources, resolve_checkpoint)
from uniformer_mm.models.backbones.uniformer import UniFormerBase

from helpers import ROOT, fabricate_official_state_dict, load_script


@pytest.fixture
def server(tmp_path):
    """An HTTP server on 127.0.0.1 serving tmp_path/www; yields (base URL, list of requested paths)."""
    (tmp_path / 'www').mkdir()
    requests = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            requests.append(self.path)

    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                            functools.partial(Handler, directory=str(tmp_path / 'www')))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f'http://127.0.0.1:{httpd.server_port}', requests, tmp_path / 'www'
    httpd.shutdown()


@pytest.fixture(autouse=True)
def hub_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, '_hub_dir', str(tmp_path / 'hub'))
    return tmp_path / 'hub' / 'uniformer_mm'


def test_every_entry_is_complete_and_loads_into_its_arch():
    for name, entry in RELEASED_CHECKPOINTS.items():
        assert entry.url or entry.mirrors or entry.page, name
        assert all(url.startswith('https://') for url in (entry.url, *entry.mirrors, entry.page) if url), name
        family = UniFormerBase.arch_zoo
        assert entry.arch in family and entry.head_dim == family[entry.arch]['head_dim'], name
        assert entry.load in LOAD_ROUTES, name


def test_every_architecture_of_the_imagenet_release_is_listed():
    imagenet = {e.arch: e for e in RELEASED_CHECKPOINTS.values() if e.load in ('init_cfg', 'imagenet')}
    assert sorted(imagenet) == sorted(UniFormerBase.arch_zoo)
    assert imagenet['small_plus'].head_dim == 32 and imagenet['small_plus_dim64'].head_dim == 64


def test_docs_table_is_generated_from_the_sources_and_metafiles():
    checkpoint_table = load_script(ROOT / '.dev_scripts' / 'checkpoint_table.py')
    doc = (ROOT / 'docs' / 'checkpoints.md').read_text(encoding='utf-8')
    assert checkpoint_table.render(doc) == doc, \
        'docs/checkpoints.md is out of date: python .dev_scripts/checkpoint_table.py --write'


def test_name_resolves_to_its_direct_download():
    assert resolve_checkpoint('uniformer_small_in1k') == \
        'https://huggingface.co/Sense-X/uniformer_image/resolve/main/uniformer_small_in1k.pth'
    assert resolve_checkpoint('http://example.org/x.pth') == 'http://example.org/x.pth'


def test_drive_only_name_says_where_to_download_it_by_hand():
    with pytest.raises(FileNotFoundError) as error:
        resolve_checkpoint('uniformer_base_ls_in1k')
    assert 'https://drive.google.com/file/d/10FnwzMVgGL8bPO3EMZ7oG4vDvqnPoBK5/view' in str(error.value)
    assert TRAIN_FROM_SCRATCH in str(error.value)


def test_missing_release_file_names_its_sources_and_the_way_out(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = UniFormer2D(init_cfg=dict(type='Pretrained', checkpoint='checkpoints/uniformer_small_in1k.pth'))
    with pytest.raises(FileNotFoundError) as error:
        model.init_weights()
    message = str(error.value)
    assert "'checkpoints/uniformer_small_in1k.pth' not found" in message and str(tmp_path) in message
    assert RELEASED_CHECKPOINTS['uniformer_small_in1k'].url in message
    assert "set init_cfg's checkpoint to 'uniformer_small_in1k'" in message and TRAIN_FROM_SCRATCH in message


def test_missing_unknown_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"(?s)'mine.pth' not found.*docs/checkpoints.md"):
        resolve_checkpoint('mine.pth')


def test_building_with_a_missing_file_warns_and_training_stops_first(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = ROOT / 'configs/mmdet/mask-rcnn_uniformer-s-h14_fpn_1x_coco.py'
    from mmengine.config import Config
    cfg = Config.fromfile(str(config))
    cfg.model.backbone.init_cfg.checkpoint = 'checkpoints/uniformer_small_in1k.pth'
    with pytest.raises(FileNotFoundError, match='uniformer_small_in1k.pth'):
        check_pretrained_sources(cfg.model)
    cfg.model.backbone.init_cfg.checkpoint = 'uniformer_small_in1k'
    check_pretrained_sources(cfg.model)


@pytest.mark.slow
def test_train_tool_stops_before_loading_any_data(tmp_path):
    # data/coco does not exist in tmp_path: reaching the dataset would fail with another error.
    config = ROOT / 'configs/mmdet/mask-rcnn_uniformer-s-h14_fpn_1x_coco.py'
    result = subprocess.run([sys.executable, str(ROOT / 'tools/train.py'), str(config), '--work-dir', 'w',
                             '--cfg-options',
                             'model.backbone.init_cfg.checkpoint=checkpoints/uniformer_small_in1k.pth'],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "FileNotFoundError: init_cfg checkpoint 'checkpoints/uniformer_small_in1k.pth' not found" in result.stderr
    assert 'annotations' not in result.stderr and not (tmp_path / 'w').exists()


def _serve_official(www: Path, name: str) -> dict:
    state_dict = fabricate_official_state_dict('image_small_in1k')
    torch.save(dict(model=state_dict), www / name)
    return state_dict


@pytest.mark.slow
def test_url_downloads_once_into_the_cache_and_loads(server, hub_cache):
    base, requests, www = server
    state_dict = _serve_official(www, 'uniformer_small_in1k.pth')
    for _ in range(2):
        model = UniFormer2D(init_cfg=dict(type='Pretrained', checkpoint=f'{base}/uniformer_small_in1k.pth'))
        model.init_weights()
        torch.testing.assert_close(model.blocks3[0].attn.qkv.weight, state_dict['blocks3.0.attn.qkv.weight'],
                                   rtol=0, atol=0)
    assert requests == ['/uniformer_small_in1k.pth']  # the second model read the cached file
    assert Path(cache_path(f'{base}/uniformer_small_in1k.pth')).is_file()
    assert [path.parent for path in hub_cache.parent.rglob('*.pth')] == [hub_cache]


def test_name_downloads_from_its_url(server, monkeypatch):
    base, requests, www = server
    state_dict = _serve_official(www, 'uniformer_small_in1k.pth')
    entry = RELEASED_CHECKPOINTS['uniformer_small_in1k']
    monkeypatch.setitem(RELEASED_CHECKPOINTS, 'uniformer_small_in1k',
                        dataclasses.replace(entry, url=f'{base}/uniformer_small_in1k.pth', mirrors=()))
    model = UniFormer2D(init_cfg=dict(type='Pretrained', checkpoint='uniformer_small_in1k'))
    model.init_weights()
    torch.testing.assert_close(model.patch_embed1.proj.weight, state_dict['patch_embed1.proj.weight'])
    assert requests == ['/uniformer_small_in1k.pth']


def test_downloaded_file_with_a_wrong_hash_is_refused(server, hub_cache):
    base, _, www = server
    _serve_official(www, 'uniformer_small_in1k_20221219-deadbeef.pth')
    model = UniFormer2D(init_cfg=dict(type='Pretrained',
                                      checkpoint=f'{base}/uniformer_small_in1k_20221219-deadbeef.pth'))
    with pytest.raises(CheckpointFileError, match=r'download refused: its SHA-256 does not start with deadbeef'):
        model.init_weights()
    assert not list(hub_cache.parent.rglob('*'))


def test_missing_url_names_the_url(server):
    base, _, _ = server
    with pytest.raises(CheckpointFileError, match=rf'{re.escape(base)}/gone.pth: download failed: HTTP Error 404'):
        UniFormer2D(init_cfg=dict(type='Pretrained', checkpoint=f'{base}/gone.pth')).init_weights()


def test_downloaded_hostile_file_is_refused(server):
    base, _, www = server
    (www / 'evil.pth').write_bytes(b'\x80\x02cposix\nsystem\nX\x02\x00\x00\x00ls\x85R.')
    with pytest.raises(CheckpointFileError, match=r'evil.pth: a legacy \(pre-1.6\) torch.save file.*\(the download '
                                                  r'was not kept\)'):
        UniFormer2D(init_cfg=dict(type='Pretrained', checkpoint=f'{base}/evil.pth')).init_weights()


def test_a_released_name_offline_names_the_url_its_other_hosts_and_the_local_path_way(server, monkeypatch):
    base, _, _ = server
    entry = RELEASED_CHECKPOINTS['uniformer_small_in1k']
    unreachable = f'{base}/uniformer_small_in1k.pth'.replace(base.rsplit(':', 1)[1], '9')  # port 9: nothing listens
    monkeypatch.setitem(RELEASED_CHECKPOINTS, 'uniformer_small_in1k', dataclasses.replace(entry, url=unreachable))
    with pytest.raises(CheckpointFileError) as error:  # what init_cfg=dict(checkpoint='uniformer_small_in1k') does
        fetch_checkpoint(resolve_checkpoint('uniformer_small_in1k'))
    message = str(error.value)
    assert message.startswith(f'{unreachable}: download failed: ')
    assert f"if this machine cannot reach it, download {unreachable} (the release's uniformer_small_in1k; also at " \
           f'{entry.mirrors[0]}' in message
    assert "give the file's local path instead (init_cfg's checkpoint, load_from, or --checkpoint)" in message


@pytest.mark.parametrize('typo', ['uniformer_smal_in1k', 'checkpoints/uniformer_smal_in1k.pth'])
def test_a_mistyped_name_gets_the_released_names_closest_to_it(typo):
    with pytest.raises(FileNotFoundError, match=r"did you mean 'uniformer_small_in1k'"):
        resolve_checkpoint(typo)


def test_mirrors_are_direct_downloads_without_a_recorded_hash():
    from uniformer_mm.checkpoint_routes import recorded_sha256
    light = 'https://huggingface.co/Andy1621/uniformer_light/resolve/main'
    # A name whose only direct download is a mirror downloads from it (the video configs' XXS ImageNet weights).
    assert resolve_checkpoint('uniformer_xxs_160_in1k') == f'{light}/uniformer_xxs_160_in1k.pth'
    assert RELEASED_CHECKPOINTS['uniformer_xxs16_160_k400'].mirrors == (f'{light}/uniformer_xxs16_160_k400.pth', )
    assert RELEASED_CHECKPOINTS['upernet_global_small'].mirrors == \
        ('https://huggingface.co/lllyasviel/Annotators/resolve/main/upernet_global_small.pth', )
    for name in ('uniformer_xxs_160_in1k', 'uniformer_xxs16_160_k400', 'upernet_global_small'):
        assert recorded_sha256(RELEASED_CHECKPOINTS[name].mirrors[0]) is None
    assert recorded_sha256(RELEASED_CHECKPOINTS['uniformer_small_in1k'].mirrors[0]) == 'fe0a7ae0'


def test_a_download_without_a_hash_says_it_is_unchecked(server, hub_cache, monkeypatch):
    base, _, www = server
    torch.save(dict(model=dict(weight=torch.ones(2))), www / 'mirrored.pth')
    logged = []
    monkeypatch.setattr(checkpoint_routes, 'print_log', lambda message, logger: logged.append(message))
    assert torch.equal(fetch_checkpoint(f'{base}/mirrored.pth')['model']['weight'], torch.ones(2))
    assert logged == [f'downloading {base}/mirrored.pth (no hash recorded: read by the checkpoint reader, '
                      'not checked against a hash)']
