"""Every route by which mmengine loads a checkpoint, through the reader of :mod:`uniformer_mm.checkpoint_safety`.

Importing ``uniformer_mm`` calls :func:`install_checkpoint_loaders`, which gives each prefix of mmengine's
``CheckpointLoader`` (what ``Runner.resume``, ``load_from``, ``init_cfg=dict(type='Pretrained')``, the inferencers
and ``mim test --checkpoint`` call) a loader of this module:

- local paths: :func:`load_from_local`;
- ``http://``, ``https://``: :func:`load_from_url` (a download as described there);
- ``open-mmlab://``, ``openmmlab://``, ``torchvision://``, ``modelzoo://``, ``mmcls://``: the name is looked up in
  mmengine's model-zoo tables exactly as mmengine does, and the URL (or file under ``$MMENGINE_HOME``) is read as
  above; ``mmcls://`` checkpoints get mmengine's key renaming afterwards;
- ``s3://``, ``petrel://``: the bytes come from mmengine's file backend, then go through the reader;
- ``pavi://``: refused, with the advice to download the file and give its path.

mmengine's ``CheckpointLoader.load_checkpoint`` is replaced by one that checks, at every load, that the loader
registered for the path's prefix is one of these; a prefix registered later by other code (and so served by a
loader that may call ``torch.load`` itself) is refused with a message naming it. :func:`restore_mmengine_loaders`
undoes all of this (the opt-out). A plain ``torch.load`` written by other code keeps torch's own policy.

Downloads go to a private temporary file in ``$TORCH_HOME/hub/uniformer_mm/`` (not torch's own
``hub/checkpoints/``, which ``torch.hub.load_state_dict_from_url`` and mmengine read with ``weights_only=False``),
over http(s) only (redirects included), with connect/read timeouts and an overall deadline, ``Content-Length``
enforced and the size capped (:func:`~uniformer_mm.checkpoint_safety.max_checkpoint_bytes`). A SHA-256 that is
known (the hash prefix in OpenMMLab file names, ``name-<hex>.pth``: :func:`recorded_sha256`) is checked; a URL
without one (the release's Hugging Face files and their mirrors) is downloaded unchecked, and says so. A failed
download names its URL and says how to do without it (:func:`~uniformer_mm.checkpoint_sources.offline_advice`). The
file is parsed by the reader from
the bytes received and moved into the cache only if the reader accepts it; a refused or partial download is
deleted. The cache is keyed by the full URL, so a file downloaded from one URL is never used for another.
"""
import hashlib
import http.client
import os
import re
import tempfile
import time
import urllib.error
import urllib.request
from typing import Any, Callable, Dict, Optional

import torch
from mmengine import fileio
from mmengine.dist import get_dist_info
from mmengine.logging import print_log
from mmengine.runner import CheckpointLoader
from mmengine.runner import checkpoint as mmengine_checkpoint

from .checkpoint_safety import (CheckpointFileError, MapLocation, load_checkpoint_file, max_checkpoint_bytes, printable,
                                read_checkpoint)
from .checkpoint_sources import offline_advice

CONNECT_AND_READ_TIMEOUT = 60.
DOWNLOAD_DEADLINE = 3 * 3600.
_CHUNK = 1 << 16
# torch.hub's convention for OpenMMLab file names: ``name-<first hex digits of the SHA-256>.pth``.
_HASH_IN_NAME = re.compile(r'-([a-f0-9]{8,64})\.[A-Za-z0-9]+$')


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follows redirects to http(s) only (urllib would also follow one to ``ftp://``)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D102 (urllib's signature)
        if not newurl.lower().startswith(('http://', 'https://')):
            raise urllib.error.URLError(f'redirected to {printable(newurl)}, which is not http(s)')
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def recorded_sha256(url: str) -> Optional[str]:
    """The SHA-256 prefix a URL's file name carries (OpenMMLab's ``name-<hex>.pth``), or None."""
    in_name = _HASH_IN_NAME.search(url.split('?')[0])
    return in_name.group(1) if in_name else None


def cache_path(url: str, cache_dir: Optional[str] = None) -> str:
    """Where the download of ``url`` is kept: named by a hash of the whole URL and its file name."""
    cache_dir = cache_dir or os.path.join(torch.hub.get_dir(), 'uniformer_mm')
    basename = re.sub(r'[^A-Za-z0-9._-]', '_', os.path.basename(url.split('?')[0].split('#')[0]))[-100:]
    return os.path.join(cache_dir, f'{hashlib.sha256(url.encode()).hexdigest()[:16]}-{basename or "checkpoint"}')


def _download(url: str, limit: int, timeout: float, deadline: float) -> bytearray:
    """The body of ``url``, or CheckpointFileError; at most ``limit`` bytes, exactly ``Content-Length`` if given."""
    if not url.lower().startswith(('http://', 'https://')):
        raise CheckpointFileError(url, 'only http(s) URLs are downloaded')
    opener = urllib.request.build_opener(_HttpOnlyRedirects)
    request = urllib.request.Request(url, headers={'User-Agent': 'uniformer_mm'})
    started = time.monotonic()
    try:
        with opener.open(request, timeout=timeout) as response:
            declared = response.headers.get('Content-Length')
            if declared is not None and (not declared.isdigit() or int(declared) > limit):
                raise CheckpointFileError(url, f'the server announces {printable(declared)} bytes, more than the '
                                          f'{limit} bytes a checkpoint may have here '
                                          '(UNIFORMER_MM_MAX_CHECKPOINT_BYTES raises the limit)')
            body = bytearray()
            while True:
                chunk = response.read1(_CHUNK)  # what one socket read gives: the deadline is checked after each
                if not chunk:
                    break
                body += chunk
                if len(body) > limit:
                    raise CheckpointFileError(url, f'download stopped: more than {limit} bytes')
                if time.monotonic() - started > deadline:
                    raise CheckpointFileError(url, f'download stopped: not finished after {deadline:.0f} s')
    except CheckpointFileError:
        raise
    # HTTP and network errors, timeouts (URLError is an OSError), malformed responses
    except (OSError, ValueError, http.client.HTTPException) as error:
        raise CheckpointFileError(url, f'download failed: {printable(str(error))}; '
                                  f'{offline_advice(printable(url, limit=None))}') from None
    if declared is not None and len(body) != int(declared):
        raise CheckpointFileError(url, f'download truncated: received {len(body)} of {declared} bytes '
                                  '(nothing was kept)')
    return body


def fetch_checkpoint(url: str, map_location: MapLocation = None, sha256: Optional[str] = None,
                     cache_dir: Optional[str] = None, timeout: float = CONNECT_AND_READ_TIMEOUT,
                     deadline: float = DOWNLOAD_DEADLINE) -> dict:
    """Loads the checkpoint at ``url``: from the cache if it was accepted before, else downloaded and read.

    Args:
        url (str): An http(s) URL.
        map_location: See :func:`~uniformer_mm.checkpoint_safety.read_checkpoint`.
        sha256 (str, optional): The file's SHA-256 or a prefix of it; by default the hash prefix of an OpenMMLab
            file name, if any.
        cache_dir (str, optional): Default ``$TORCH_HOME/hub/uniformer_mm``.
        timeout (float): Seconds to wait for a connection and for each read.
        deadline (float): Seconds the whole download may take.

    Raises:
        CheckpointFileError: The download failed or was refused (nothing is then kept), or a cached file no longer
            reads (its path is named).
    """
    cached = cache_path(url, cache_dir)
    if os.path.isfile(cached):
        try:
            return load_checkpoint_file(cached, map_location)
        except CheckpointFileError as error:
            raise CheckpointFileError(url, f'the cached download {cached} no longer reads ({error.cause}); delete '
                                      'it to download again') from None
    expected = sha256 or recorded_sha256(url)
    print_log(f'downloading {printable(url, limit=None)}'
              + ('' if expected else ' (no hash recorded: read by the checkpoint reader, not checked against a hash)'),
              logger='current')
    body = _download(url, max_checkpoint_bytes(), timeout, deadline)
    if expected and not hashlib.sha256(body).hexdigest().startswith(expected.lower()):
        raise CheckpointFileError(url, f'download refused: its SHA-256 does not start with {expected} (nothing '
                                  'was kept)')
    try:
        checkpoint = read_checkpoint(body, url, map_location)
    except CheckpointFileError as error:
        raise CheckpointFileError(url, f'{error.cause} (the download was not kept)') from None
    os.makedirs(os.path.dirname(cached), exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=os.path.dirname(cached), prefix='.download-')
    try:
        with os.fdopen(descriptor, 'wb') as file:
            file.write(body)
        os.replace(temporary, cached)
    except BaseException:
        os.unlink(temporary)
        raise
    return checkpoint


def load_from_url(filename: str, map_location: MapLocation = None) -> dict:
    """``http(s)://``: :func:`fetch_checkpoint`; in distributed runs rank 0 downloads while the others wait."""
    rank, world_size = get_dist_info()
    if rank == 0:
        checkpoint = fetch_checkpoint(filename, map_location)
    if world_size > 1:
        torch.distributed.barrier()
        if rank > 0:
            checkpoint = fetch_checkpoint(filename, map_location)
    return checkpoint


def load_from_local(filename: str, map_location: MapLocation = None) -> dict:
    """Local paths: :func:`~uniformer_mm.checkpoint_safety.load_checkpoint_file`."""
    return load_checkpoint_file(os.path.expanduser(filename), map_location)


def _zoo_url(filename: str, prefixes: tuple, table: Callable[[], Dict[str, str]],
             deprecated: Optional[Callable[[], Dict[str, str]]] = None) -> str:
    prefix = next(prefix for prefix in prefixes if filename.startswith(prefix))
    name = filename[len(prefix):]
    if deprecated is not None:
        name = deprecated().get(name, name)
    urls = table()
    if name not in urls:
        raise CheckpointFileError(filename, f'{prefix} knows no model {printable(name)} (mmengine\'s model zoo '
                                  'tables)')
    return urls[name]


def load_from_openmmlab(filename: str, map_location: MapLocation = None) -> dict:
    """``open-mmlab://``, ``openmmlab://``: mmengine's external model table, then a URL or a file under
    ``$MMENGINE_HOME``."""
    url = _zoo_url(filename, ('open-mmlab://', 'openmmlab://'), mmengine_checkpoint.get_external_models,
                   mmengine_checkpoint.get_deprecated_model_names)
    if url.startswith(('http://', 'https://')):
        return load_from_url(url, map_location)
    return load_checkpoint_file(os.path.join(mmengine_checkpoint._get_mmengine_home(), url), map_location)


def load_from_torchvision(filename: str, map_location: MapLocation = None) -> dict:
    """``torchvision://``, ``modelzoo://``: torchvision's weight URLs, as mmengine lists them."""
    return load_from_url(_zoo_url(filename, ('torchvision://', 'modelzoo://'),
                                  mmengine_checkpoint.get_torchvision_models), map_location)


def load_from_mmcls(filename: str, map_location: MapLocation = None) -> dict:
    """``mmcls://``: mmengine's mmcls table, and its renaming of the loaded keys."""
    checkpoint = load_from_url(_zoo_url(filename, ('mmcls://', ), mmengine_checkpoint.get_mmcls_models),
                               map_location)
    state_dict = checkpoint.get('state_dict', checkpoint)
    if not isinstance(state_dict, dict) or not all(isinstance(key, str) for key in state_dict):
        raise CheckpointFileError(filename, 'not an mmcls checkpoint: it needs a state dict of named tensors')
    return mmengine_checkpoint._process_mmcls_checkpoint(checkpoint)


def load_from_file_backend(filename: str, map_location: MapLocation = None) -> dict:
    """``s3://``, ``petrel://``: the bytes from mmengine's file backend (petrel), then the reader."""
    try:
        data = fileio.get(filename, backend_args=dict(backend='petrel'))
    except (ImportError, OSError, ValueError) as error:  # no petrel client, no such object, no access
        raise CheckpointFileError(filename, f'cannot be fetched: {type(error).__name__}: '
                                  f'{printable(str(error))}') from None
    if len(data) > max_checkpoint_bytes():
        raise CheckpointFileError(filename, f'{len(data)} bytes, more than the {max_checkpoint_bytes()} bytes a '
                                  'checkpoint may have here')
    return read_checkpoint(bytearray(data), filename, map_location)


def refuse_pavi(filename: str, map_location: MapLocation = None) -> dict:
    """``pavi://``: not read (mmengine would ``torch.load`` the file its client writes)."""
    raise CheckpointFileError(filename, 'pavi:// checkpoints are not read under uniformer_mm\'s checkpoint policy; '
                              'download the file and give its local path')


_ROUTES = {
    '': load_from_local,
    ('http://', 'https://'): load_from_url,
    ('open-mmlab://', 'openmmlab://'): load_from_openmmlab,
    ('torchvision://', 'modelzoo://'): load_from_torchvision,
    'mmcls://': load_from_mmcls,
    (r'(\S+\:)?s3://', r'(\S+\:)?petrel://'): load_from_file_backend,
    'pavi://': refuse_pavi,
}
_OUR_LOADERS = frozenset(_ROUTES.values())
_MMENGINE_ORIGINALS: Dict[str, Any] = {}


def _checked_load_checkpoint(cls, filename: str, map_location: MapLocation = None, logger: str = 'current') -> Any:
    """``CheckpointLoader.load_checkpoint`` under the policy: the loader for the prefix must be one of ours."""
    loader = cls._get_checkpoint_loader(filename)
    if loader not in _OUR_LOADERS:
        raise CheckpointFileError(
            filename, f'its prefix is served by {loader.__module__}.{loader.__name__}, registered after uniformer_mm '
            "was imported, which does not read checkpoints under uniformer_mm's policy; download the file and give "
            'its local path, or call uniformer_mm.checkpoint_routes.restore_mmengine_loaders() to opt out')
    print_log(f'Loads checkpoint by {loader.__name__} from path: {printable(str(filename))}', logger=logger)
    return loader(filename, map_location)


def install_checkpoint_loaders() -> None:
    """Routes every mmengine checkpoint prefix through the reader (idempotent; see the module docstring)."""
    if not _MMENGINE_ORIGINALS:
        _MMENGINE_ORIGINALS['schemes'] = dict(CheckpointLoader._schemes)
        _MMENGINE_ORIGINALS['load_checkpoint'] = CheckpointLoader.__dict__['load_checkpoint']
    for prefixes, loader in _ROUTES.items():
        CheckpointLoader.register_scheme(prefixes=prefixes, loader=loader, force=True)
    CheckpointLoader.load_checkpoint = classmethod(_checked_load_checkpoint)


def restore_mmengine_loaders() -> None:
    """The opt-out: gives mmengine back its own loaders (which call ``torch.load`` as mmengine does)."""
    if _MMENGINE_ORIGINALS:
        CheckpointLoader._schemes.clear()
        CheckpointLoader._schemes.update(_MMENGINE_ORIGINALS.pop('schemes'))
        CheckpointLoader.load_checkpoint = _MMENGINE_ORIGINALS.pop('load_checkpoint')
