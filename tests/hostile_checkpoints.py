"""Checkpoint files written by hand, opcode by opcode and zip record by zip record, and a harness that loads each in
a child process under an address-space limit and a time limit, the way a user's process would load it."""
import json
import struct
import subprocess
import sys
import zipfile
from io import BytesIO
from pathlib import Path
from typing import Dict, Iterable

import torch


# ---- a protocol-2 pickle writer: each function returns the opcodes that push one value -------------------------
def glob(module: str, name: str) -> bytes:
    return b'c' + f'{module}\n{name}\n'.encode()


def text(value: str) -> bytes:
    data = value.encode('utf-8', 'surrogatepass')
    return b'X' + struct.pack('<I', len(data)) + data


def integer(value: int) -> bytes:
    return b'J' + struct.pack('<i', value)


def long(value: int) -> bytes:  # LONG1: an int of up to 255 bytes
    data = value.to_bytes((value.bit_length() + 8) // 8, 'little', signed=True)
    return b'\x8a' + bytes([len(data)]) + data


def raw_bytes(data: bytes) -> bytes:  # protocol 2 writes bytes as _codecs.encode(latin-1 text, 'latin1')
    return glob('_codecs', 'encode') + text(data.decode('latin1')) + text('latin1') + b'\x86R'


def tup(*items: bytes) -> bytes:
    return b'(' + b''.join(items) + b't'


def call(func: bytes, *args: bytes) -> bytes:
    return func + tup(*args) + b'R'


def build(obj: bytes, state: bytes) -> bytes:
    return obj + state + b'b'


def dictionary(**items: bytes) -> bytes:
    return b'}(' + b''.join(text(k) + v for k, v in items.items()) + b'u'


NONE, TRUE, FALSE = b'N', b'\x88', b'\x89'
ORDERED_DICT = call(glob('collections', 'OrderedDict'))


def put(index: int) -> bytes:
    return b'r' + struct.pack('<I', index)


def get(index: int) -> bytes:
    return b'j' + struct.pack('<I', index)


def storage(key: str, numel: int, storage_type: str = 'FloatStorage', location: str = 'cpu') -> bytes:
    """A persistent id naming the storage record ``data/<key>``, then BINPERSID."""
    return tup(text('storage'), glob('torch', storage_type), text(key), text(location), integer(numel)) + b'Q'


def tensor(storage_opcodes: bytes, size, stride, offset: int = 0, hooks: bytes = ORDERED_DICT, *extra: bytes) -> bytes:
    return call(glob('torch._utils', '_rebuild_tensor_v2'), storage_opcodes, integer(offset),
                tup(*(integer(n) if n < 2 ** 31 else long(n) for n in size)),
                tup(*(integer(n) if n < 2 ** 31 else long(n) for n in stride)), FALSE, hooks, *extra)


GETATTR = glob('__builtin__', 'getattr')
HISTORY_BUFFER = glob('mmengine.logging.history_buffer', 'HistoryBuffer')


def dtype(code: str, state: bytes = None, byteorder: str = '<') -> bytes:
    state = state or tup(integer(3), text(byteorder), NONE, NONE, NONE, integer(-1), integer(-1), integer(0))
    return build(call(glob('numpy', 'dtype'), text(code), FALSE, TRUE), state)


def array(shape, dtype_opcodes: bytes, data: bytes, module: str = 'numpy._core.multiarray',
          shape_opcodes: bytes = None) -> bytes:
    shape_opcodes = shape_opcodes or tup(*(integer(n) if n < 2 ** 31 else long(n) for n in shape))
    empty = call(glob(module, '_reconstruct'), glob('numpy', 'ndarray'), tup(integer(0)), raw_bytes(b'b'))
    return build(empty, tup(integer(1), shape_opcodes, dtype_opcodes, FALSE, raw_bytes(data)))


def history_buffer(**state: bytes) -> bytes:
    return build(HISTORY_BUFFER + b')\x81', dictionary(**state))


def statistic(name: str) -> bytes:
    return call(GETATTR, HISTORY_BUFFER, text(name))


def checkpoint(payload: bytes) -> bytes:
    """A whole pickle: ``{'state_dict': {}, 'message_hub': payload}``."""
    return b'\x80\x02' + dictionary(state_dict=b'}', message_hub=payload) + b'.'


# ---- files -------------------------------------------------------------------------------------------------------
def torch_bytes(obj, **kwargs) -> bytes:
    """What ``torch.save(obj)`` writes."""
    buffer = BytesIO()
    torch.save(obj, buffer, **kwargs)
    return buffer.getvalue()


def zip_archive(members: Dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    """A zip archive of ``members`` written by Python's zipfile (no data descriptors, no alignment padding)."""
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, 'w', compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def archive_bytes(pickle_bytes: bytes, storages: Dict[str, bytes] = None, root: str = 'archive') -> bytes:
    """A PyTorch zip archive whose data.pkl is ``pickle_bytes`` and whose storage records are ``storages``."""
    members = {f'{root}/data.pkl': pickle_bytes, f'{root}/byteorder': b'little', f'{root}/version': b'3\n'}
    members.update({f'{root}/data/{key}': data for key, data in (storages or {}).items()})
    return zip_archive(members)


def write_archive(path: Path, pickle_bytes: bytes, storages: Dict[str, bytes] = None) -> Path:
    """:func:`archive_bytes` written to ``path``."""
    path.write_bytes(archive_bytes(pickle_bytes, storages))
    return path


# ---- loading in a child process ----------------------------------------------------------------------------------
CHILD = r'''
import json, os, resource, signal, sys, time
import torch
import uniformer_mm
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import _load_checkpoint

HistoryBuffer()  # registers mmengine's default statistics, as any run does
allow_list = sorted(map(str, torch.serialization.get_safe_globals()))
table = dict(HistoryBuffer._statistics_methods)
headroom, timeout = int(sys.argv[1]), int(sys.argv[2])


def status(field):
    with open('/proc/self/status') as file:
        return next(int(line.split()[1]) * 1024 for line in file if line.startswith(field + ':'))


for path in sys.argv[3:]:
    pid = os.fork()
    if pid == 0:
        os.chdir(os.path.dirname(path))
        resource.setrlimit(resource.RLIMIT_AS, (status('VmSize') + headroom, resource.RLIM_INFINITY))
        signal.alarm(timeout)  # a hang kills the child, and the test names it
        with open('/proc/self/clear_refs', 'w') as file:
            file.write('5')  # resets the peak resident size to the current one
        report = {}
        loaders = [('mmengine', _load_checkpoint)]
        if not os.path.exists('SKIP_TORCH'):
            loaders.append(('torch', torch.load))
        for loader, load in loaders:
            before, started = status('VmRSS'), time.monotonic()
            try:
                result = load(path)
                report[loader] = 'loaded'
                if loader == 'mmengine':
                    report['loaded'] = repr(result)[:2000]
            except BaseException as error:
                report[loader] = f'{type(error).__name__}: {error}'[:2000]
            if loader == 'mmengine':
                report['seconds'] = time.monotonic() - started
                report['rss_growth'] = status('VmHWM') - before
                report['marker'] = os.path.exists('MARKER')
                report['process_group'] = torch.distributed.is_initialized()
                report['table_unchanged'] = dict(HistoryBuffer._statistics_methods) == table
                report['allow_list_unchanged'] = sorted(map(str, torch.serialization.get_safe_globals())) == \
                    allow_list
                report['sparse_queue_empty'] = not torch._utils._sparse_tensors_to_validate
                with open(path + '.json', 'w') as file:  # written before plain torch.load, which may crash
                    json.dump(report, file)
        with open(path + '.json', 'w') as file:
            json.dump(report, file)
        os._exit(0)
    _, status_code = os.waitpid(pid, 0)
    print('STATUS', json.dumps(dict(path=path, status=status_code)), flush=True)
'''


def load_in_children(paths: Iterable[Path], headroom: int = 1 << 30, timeout: int = 60) -> Dict[Path, dict]:
    """Loads each file in its own forked child of one clean interpreter that imported ``uniformer_mm``, through
    mmengine's loader (what ``Runner.resume``, ``load_from``, ``init_cfg=Pretrained`` and the inferencers call)
    and, unless a ``SKIP_TORCH`` file sits beside it, plain ``torch.load``. Each child may map ``headroom`` bytes
    beyond what it had, and is killed after ``timeout`` seconds.

    Returns ``{path: report}``: the outcome of each loader, the seconds and the peak resident-memory growth of the
    mmengine load, whether a ``MARKER`` file appeared, and whether torch's allow-list, ``HistoryBuffer``'s class
    table or torch's sparse-validation queue changed; ``status`` is the child's wait status (0: it exited).
    """
    paths = [Path(path) for path in paths]
    result = subprocess.run([sys.executable, '-c', CHILD, str(headroom), str(timeout), *map(str, paths)],
                            capture_output=True, text=True, timeout=120 + timeout * len(paths))
    assert result.returncode == 0, result.stderr[-3000:]
    statuses = {Path(line['path']): line['status'] for line in
                (json.loads(line[len('STATUS '):]) for line in result.stdout.splitlines()
                 if line.startswith('STATUS '))}
    reports = {}
    for path in paths:
        report_file = Path(f'{path}.json')
        reports[path] = json.loads(report_file.read_text()) if report_file.exists() else {}
        reports[path]['status'] = statuses.get(path)
    return reports
