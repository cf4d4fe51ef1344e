"""The checkpoint loading policy: no checkpoint file can run code, crash the process or touch state it did not create.

A ``.pth`` file is a pickle, and a pickle is a program. A file is loaded in three steps:

1. Scan (before anything is unpickled): the pickle opcodes are read without executing them, and every global the
   file names must be on an explicit list, ``_ALLOWED_GLOBALS``: the plain-tensor rebuild functions, storage type
   names, dtypes, ``torch.Size``, ``torch.device``, ``OrderedDict``, ``Counter``, ``set``, ``_codecs.encode`` (how
   protocol 2 writes bytes), and the names of the stand-ins below. torch's weights-only unpickler on its own
   accepts more (its exception classes, ``traceback.FrameSummary``, which reads files, ``DeviceMesh``, which
   starts process groups, ``bytearray``, ``torch.Tensor(size)``, which returns uninitialised memory, parameter and
   subclass rebuilds, ...); a checkpoint of state dicts needs none of them.
2. Unpickle with torch's weights-only unpickler (``weights_only=True``, always passed explicitly), where the names
   mmengine's checkpoints need beyond torch's own resolve to inert stand-ins of this module, never to numpy's or
   mmengine's callables. While the load runs, torch's user allow-list holds exactly those stand-ins (under a lock,
   since the list is process-wide), and afterwards again what it held before.
3. Walk the result once: each stand-in is validated and replaced by the real object, and anything that is not
   what checkpoints are made of (dicts without extra attributes, lists, tuples, sets, strings, bytes, numbers,
   plain tensors without hooks, dtypes, devices) is refused.

The stand-ins:

- numpy dtypes (``numpy.dtype``): only plain numeric type codes (bool, integers, floats, complex) with exactly the
  state numpy itself writes; they become numpy's canonical dtype instances, so no crafted dtype state (object
  dtypes, forged item sizes) ever exists.
- numpy arrays and scalars (``numpy.core.multiarray._reconstruct`` of numpy 1 and ``numpy._core.multiarray`` of
  numpy 2, ``scalar``, and ``bytes()`` for the empty data of empty arrays): copied from the pickled bytes into
  fresh arrays after checking that the byte count is exactly what the shape and dtype need, so no array can point
  at memory it does not own.
- mmengine's ``HistoryBuffer`` (the message hub's logged scalars): rebuilt through its constructor from its
  histories and ``max_length``. Its statistics methods, pickled as ``getattr(HistoryBuffer, name)``, are resolved
  by name: ``builtins.getattr`` resolves to a stand-in that accepts only the HistoryBuffer stand-in and a string,
  and the name must be a statistic this process has registered. Nothing from the file is written to
  ``HistoryBuffer``'s class-level table or to a buffer's ``__dict__``.

Scope: importing ``uniformer_mm`` replaces mmengine's local-file and http(s) checkpoint loaders
(``CheckpointLoader``, used by ``Runner.resume``, ``load_from``, ``init_cfg=dict(type='Pretrained')``, the
inferencers and ``mim test --checkpoint``) with :func:`load_from_local` and :func:`load_from_http`. torch's
allow-list is not widened at import; a ``torch.load`` elsewhere in the process keeps torch's default policy, except
that one running in another thread during one of our loads sees the stand-ins instead of the user allow-list (it
could receive inert stand-ins, or fail).

A file that cannot be loaded raises :class:`CheckpointFileError`, naming the file and the cause (empty, truncated,
not a PyTorch file, refused content, not a dict).
"""
import contextlib
import math
import os
import pickle
import pickletools
import reprlib
import threading
import zipfile
from collections import Counter, OrderedDict
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple, Union
from urllib.parse import urlparse

import numpy as np
import torch
from _compat_pickle import IMPORT_MAPPING, NAME_MAPPING
from mmengine.dist import get_dist_info
from mmengine.logging import HistoryBuffer, print_log
from mmengine.runner import CheckpointLoader

PathLike = Union[str, os.PathLike]

# dtype codes numpy writes for the plain types that logs and dataset metadata hold.
_PLAIN_DTYPE_CODES = frozenset(['b1'] + [f'{kind}{size}' for kind in 'iu' for size in (1, 2, 4, 8)] +
                               ['f2', 'f4', 'f8', 'c8', 'c16'])
_BYTE_ORDERS = ('<', '>', '|', '=')
_MAX_ARRAY_DIMS = 32
_HISTORY_BUFFER_STATE = frozenset({'max_length', '_log_history', '_count_history', 'statistics_methods'})
_ZIP_MAGIC = b'PK\x03\x04'
_PICKLE_PROTO = b'\x80'
_LOAD_LOCK = threading.Lock()
_SHORT_REPR = reprlib.Repr()
_SHORT_REPR.maxlevel, _SHORT_REPR.maxstring, _SHORT_REPR.maxother = 3, 40, 40


class CheckpointFileError(ValueError):
    """A checkpoint file that cannot be loaded: unreadable, malformed, or refused by the loading policy."""

    def __init__(self, filename: Any, cause: str) -> None:
        super().__init__(f'{filename}: {cause}')
        self.filename = filename
        self.cause = cause


class _Refused(pickle.UnpicklingError):
    """Internal: content the policy does not accept, found while unpickling or while rebuilding stand-ins."""


class _StandIn:
    """What the file asked of a numpy or mmengine callable: the call's arguments and the state BUILD gave it.

    Nothing is done with them until :func:`_materialize` validates them.
    """
    __slots__ = ('args', 'state')

    def __init__(self, *args: Any) -> None:
        self.args = args
        self.state = None

    def __setstate__(self, state: Any) -> None:
        self.state = state


class _DTypeStandIn(_StandIn):
    """``numpy.dtype(code, align, copy)``, then BUILD with numpy's dtype state."""
    __slots__ = ()


class _ArrayStandIn(_StandIn):
    """``_reconstruct(ndarray, (0,), b'b')``, then BUILD with (version, shape, dtype, is_fortran, data); also
    stands for ``numpy.ndarray``, the first argument."""
    __slots__ = ()


class _ScalarStandIn(_StandIn):
    """``numpy.core.multiarray.scalar(dtype, data)``."""
    __slots__ = ()


class _HistoryBufferStandIn(_StandIn):
    """A pickled ``HistoryBuffer``: NEWOBJ, then BUILD with its ``__dict__``."""
    __slots__ = ()


class _StatisticStandIn:
    """``getattr(HistoryBuffer, name)``, the only getattr accepted: a statistic method named by a string."""
    __slots__ = ('owner', 'name')

    def __init__(self, owner: Any, name: Any) -> None:
        if owner is not _HistoryBufferStandIn or not isinstance(name, str):
            owner = next((label for stand_in, label in _STAND_INS if stand_in is owner), type(owner).__name__)
            raise _Refused(f'getattr is accepted only as getattr(HistoryBuffer, <statistic name>), got getattr('
                           f'{owner}, {_short(name)})')
        self.owner = owner
        self.name = name


def _empty_bytes(*args: Any) -> bytes:
    """``bytes()``: how protocol 2 pickles ``b''`` (an empty array's data); no other call is accepted."""
    if args:
        raise _Refused('bytes(...) is accepted only without arguments, for b""')
    return b''


# The names mmengine checkpoints pickle, each resolved to a stand-in for the duration of one load.
_STAND_INS = [
    (_DTypeStandIn, 'numpy.dtype'),
    (_ArrayStandIn, 'numpy.ndarray'),
    (_ArrayStandIn, 'numpy.core.multiarray._reconstruct'),
    (_ArrayStandIn, 'numpy._core.multiarray._reconstruct'),
    (_ScalarStandIn, 'numpy.core.multiarray.scalar'),
    (_ScalarStandIn, 'numpy._core.multiarray.scalar'),
    (_HistoryBufferStandIn, 'mmengine.logging.history_buffer.HistoryBuffer'),
    (_StatisticStandIn, 'builtins.getattr'),
    (_empty_bytes, 'builtins.bytes'),
]
# Everything a checkpoint may name, checked before torch unpickles anything. torch's weights-only unpickler
# accepts more (its exception classes, traceback.FrameSummary, DeviceMesh, bytearray, torch.Tensor(size), parameter
# and subclass rebuilds, ...), none of which a checkpoint of a state dict needs and some of which read files,
# start process groups or hand out uninitialised memory.
_ALLOWED_GLOBALS = frozenset(
    [name for _, name in _STAND_INS]
    + ['torch._utils._rebuild_tensor', 'torch._utils._rebuild_tensor_v2', 'torch._utils._rebuild_tensor_v3',
       'torch.Size', 'torch.device', 'collections.OrderedDict', 'collections.Counter', '_codecs.encode',
       'builtins.set']
    # dtypes, and the legacy storage type names that mark a tensor's storage (never called by the unpickler)
    + [str(value) for value in vars(torch).values() if isinstance(value, torch.dtype)]
    + [f'torch.{name}' for name in dir(torch) if name.endswith('Storage') and name not in ('TypedStorage',
                                                                                           'UntypedStorage')])
# Instance attributes torch's unpickler may set on a container through BUILD: a state dict's version metadata.
_CONTAINER_ATTRIBUTES = {OrderedDict: {'_metadata'}, Counter: set()}


def _short(value: Any) -> str:
    """A bounded repr for messages: a file can nest shared containers so that the full repr is exponential."""
    return _SHORT_REPR.repr(value)


def _exact_int(value: Any, what: str, minimum: int = 0) -> int:
    if type(value) is not int or value < minimum:
        raise _Refused(f'{what} must be an int >= {minimum}, got {_short(value)}')
    return value


def _to_dtype(stand_in: Any) -> np.dtype:
    if not isinstance(stand_in, _DTypeStandIn):
        raise _Refused(f'expected a numpy dtype, got {type(stand_in).__name__}')
    if len(stand_in.args) != 3:
        raise _Refused(f'numpy.dtype takes (code, align, copy), got {len(stand_in.args)} arguments')
    code, align, copy = stand_in.args
    if not isinstance(code, str) or code not in _PLAIN_DTYPE_CODES:
        raise _Refused(f'numpy dtype {_short(code)} is not a plain numeric dtype '
                       f'(accepted: {", ".join(sorted(_PLAIN_DTYPE_CODES))})')
    if align not in (0, False) or copy not in (1, True):
        raise _Refused(f'numpy.dtype({code!r}, align={_short(align)}, copy={_short(copy)}) is not how numpy pickles')
    state = stand_in.state
    # numpy pickles a plain dtype's state as (3, byte order, None, None, None, -1, -1, 0); nothing else.
    if not (type(state) is tuple and len(state) == 8 and state[0] == 3 and state[1] in _BYTE_ORDERS
            and state[2:] == (None, None, None, -1, -1, 0)):
        raise _Refused(f'numpy dtype {code!r} carries a state numpy never writes for it: {_short(state)}')
    dtype = np.dtype(code)
    return dtype if state[1] in ('|', '=') else dtype.newbyteorder(state[1])


def _to_array(stand_in: _ArrayStandIn) -> np.ndarray:
    args = stand_in.args
    if not (type(args) is tuple and len(args) == 3 and args[0] is _ArrayStandIn and args[1] == (0, )
            and args[2] == b'b'):
        raise _Refused(f'numpy array reconstruction with unexpected arguments {_short(args)}')
    state = stand_in.state
    if not (type(state) is tuple and len(state) == 5 and state[0] == 1):
        raise _Refused(f'numpy array state must be (1, shape, dtype, is_fortran, data), got {_short(state)}')
    _, shape, dtype, is_fortran, data = state
    if type(shape) is not tuple or len(shape) > _MAX_ARRAY_DIMS:
        raise _Refused(f'numpy array shape must be a tuple of at most {_MAX_ARRAY_DIMS} ints, got {_short(shape)}')
    shape = tuple(_exact_int(size, 'an array dimension') for size in shape)
    dtype = _to_dtype(dtype)
    if type(is_fortran) is not bool:
        raise _Refused(f'numpy array is_fortran must be a bool, got {_short(is_fortran)}')
    if not isinstance(data, bytes):
        raise _Refused(f'numpy array data must be bytes, got {type(data).__name__}')
    expected = math.prod(shape) * dtype.itemsize
    if len(data) != expected:
        raise _Refused(f'numpy array of shape {shape} and dtype {dtype} needs {expected} bytes, '
                       f'the file gives {len(data)}')
    flat = np.frombuffer(data, dtype=dtype)
    return flat.reshape(shape, order='F' if is_fortran else 'C').copy(order='K')


def _to_scalar(stand_in: _ScalarStandIn) -> np.generic:
    if len(stand_in.args) != 2:
        raise _Refused(f'numpy scalar takes (dtype, data), got {len(stand_in.args)} arguments')
    dtype, data = _to_dtype(stand_in.args[0]), stand_in.args[1]
    if not isinstance(data, bytes) or len(data) != dtype.itemsize:
        size = len(data) if isinstance(data, bytes) else type(data).__name__
        raise _Refused(f'numpy {dtype} scalar needs {dtype.itemsize} bytes of data, the file gives {size}')
    return np.frombuffer(data, dtype=dtype)[0].copy()


def _to_history_buffer(stand_in: _HistoryBufferStandIn, convert: Callable[[Any], Any]) -> HistoryBuffer:
    state = stand_in.state
    if type(state) is not dict or not {'max_length', '_log_history', '_count_history'} <= state.keys() \
            or not state.keys() <= _HISTORY_BUFFER_STATE:
        found = _short(sorted(map(str, state))) if type(state) is dict else type(state).__name__
        raise _Refused(f'HistoryBuffer state must have keys {sorted(_HISTORY_BUFFER_STATE)}, got {found}')
    max_length = _exact_int(state['max_length'], 'HistoryBuffer max_length', minimum=1)
    histories = [convert(state[key]) for key in ('_log_history', '_count_history')]
    for history in histories:
        if not isinstance(history, np.ndarray) or history.ndim != 1:
            raise _Refused('HistoryBuffer histories must be 1-D numpy arrays')
    if len(histories[0]) != len(histories[1]):
        raise _Refused('HistoryBuffer log and count histories differ in length')
    buffer = HistoryBuffer(histories[0], histories[1], max_length)
    statistics = state.get('statistics_methods', {})
    if type(statistics) is not dict:
        raise _Refused(f'HistoryBuffer statistics must be a dict, got {type(statistics).__name__}')
    for name, method in statistics.items():
        if not (isinstance(method, _StatisticStandIn) and method.owner is _HistoryBufferStandIn
                and method.name == name):
            raise _Refused(f'HistoryBuffer statistic {_short(name)} must be getattr(HistoryBuffer, {_short(name)})')
        if name not in HistoryBuffer._statistics_methods:
            raise _Refused(f'HistoryBuffer statistic {_short(name)} is not registered in this process; import the '
                           'code that registers it (HistoryBuffer.register_statistics) before loading')
    return buffer


def _materialize(obj: Any) -> Any:
    """Replaces the stand-ins in an unpickled object by the objects they stand for, or raises _Refused.

    Only what a checkpoint is made of passes: dicts (and OrderedDict / Counter without attributes beyond a state
    dict's ``_metadata``), lists, tuples, sets, strings, bytes, numbers, None, plain tensors without hooks or
    attributes, torch dtypes and devices. Keys are converted like values and must stay hashable.
    """
    converted: Dict[int, Tuple[Any, Any]] = {}  # id -> (original, result); holding the original keeps its id unique
    on_path = set()

    def convert(value: Any) -> Any:
        if type(value) in (str, bytes, int, float, bool, type(None), torch.dtype, torch.device):
            return value
        if type(value) is torch.Tensor:
            if value._backward_hooks or vars(value):
                raise _Refused('a tensor with backward hooks or attributes')
            return value
        key = id(value)
        if key in converted:
            return converted[key][1]
        if key in on_path:
            raise _Refused('the checkpoint holds a container that contains itself')
        on_path.add(key)
        if type(value) in (dict, OrderedDict, Counter):
            _convert_mapping(value, convert)
            result = value
        elif type(value) is list:
            value[:] = [convert(item) for item in value]
            result = value
        elif type(value) in (tuple, torch.Size, set):
            result = type(value)([convert(item) for item in value])
        elif type(value) is _ArrayStandIn:
            result = _to_array(value)
        elif type(value) is _ScalarStandIn:
            result = _to_scalar(value)
        elif type(value) is _DTypeStandIn:
            result = _to_dtype(value)
        elif type(value) is _HistoryBufferStandIn:
            result = _to_history_buffer(value, convert)
        elif type(value) is _StatisticStandIn:
            raise _Refused(f'getattr(HistoryBuffer, {_short(value.name)}) outside a HistoryBuffer')
        else:
            raise _Refused(f'an object of type {type(value).__name__}, which checkpoints do not hold')
        on_path.discard(key)
        converted[key] = (value, result)
        return result

    try:
        return convert(obj)
    except RecursionError:
        raise _Refused('the checkpoint nests containers deeper than Python can walk') from None
    # unhashable keys, impossible shapes, stand-ins made by NEWOBJ without arguments or state
    except (TypeError, ValueError, OverflowError, MemoryError, AttributeError, RuntimeError) as error:
        raise _Refused(f'{type(error).__name__}: {error}') from None


def _convert_mapping(mapping: dict, convert: Callable[[Any], Any]) -> None:
    """Converts a dict's keys and values in place; OrderedDict / Counter attributes are checked first, since an
    attribute set by BUILD would shadow the methods used here (``items``, ``clear``)."""
    attributes = vars(mapping) if type(mapping) is not dict else {}
    unexpected = sorted(map(str, set(attributes) - _CONTAINER_ATTRIBUTES[type(mapping)])) if attributes else []
    if unexpected:
        raise _Refused(f'a {type(mapping).__name__} with attributes {_short(unexpected)}')
    if '_metadata' in attributes:
        attributes['_metadata'] = convert(attributes['_metadata'])
    items = [(convert(key), convert(value)) for key, value in dict.items(mapping)]
    mapping.clear()
    for key, value in items:
        mapping[key] = value


def _check_globals(filename: PathLike) -> None:
    """Refuses a file whose pickles name a global outside ``_ALLOWED_GLOBALS``, before anything is unpickled.

    Reads the pickle opcodes without executing them (``pickletools.genops``): every ``*.pkl`` member of a zip
    archive, or the five pickles that open a legacy file. A file this scan cannot read is refused (fail closed).
    """
    with open(filename, 'rb') as file:
        if zipfile.is_zipfile(file):
            with zipfile.ZipFile(file) as archive:
                for info in archive.infolist():
                    if info.filename.endswith('.pkl'):
                        with archive.open(info) as member:
                            _check_pickle_globals(member)
        else:
            file.seek(0)
            for _ in range(5):  # legacy format: magic number, protocol, system info, the object, storage keys
                if not file.peek(1)[:1]:
                    break
                _check_pickle_globals(file)


def _check_pickle_globals(stream: Any) -> None:
    try:
        for opcode, argument, _ in pickletools.genops(stream):
            if opcode.name == 'GLOBAL':
                module, name = argument.split(' ', 1)
                # The renames torch's unpickler applies to protocol-2 names (__builtin__ -> builtins, ...).
                if (module, name) in NAME_MAPPING:
                    module, name = NAME_MAPPING[(module, name)]
                elif module in IMPORT_MAPPING:
                    module = IMPORT_MAPPING[module]
                if f'{module}.{name}' not in _ALLOWED_GLOBALS:
                    raise _Refused(f'GLOBAL {module}.{name} is not on the checkpoint allow-list')
    except ValueError as error:  # pickletools' errors for truncated or unknown opcodes
        if 'exhausted' in str(error):
            raise EOFError(str(error)) from None
        raise _Refused(f'unreadable pickle ({error})') from None


def _unpickler_reason(message: str) -> str:
    """torch's reason for refusing a file, without its advice to load with ``weights_only=False``."""
    message = message.split('\n\nCheck the documentation of torch.load')[0]
    if message.startswith('Weights only load failed.'):
        message = message.split('WeightsUnpickler error:')[-1].split('\n\n')[-1]
    return message.split(' Please use `torch.serialization')[0].strip()


def _describe_failure(filename: PathLike, error: BaseException) -> str:
    """The cause of a failed ``torch.load``, read off the file's first bytes and torch's message."""
    size = os.path.getsize(filename)
    if size == 0:
        return 'the file is empty (0 bytes)'
    with open(filename, 'rb') as file:
        head = file.read(4)
    detail = _unpickler_reason(str(error)) or type(error).__name__
    if head.startswith(_ZIP_MAGIC) and not zipfile.is_zipfile(filename):
        return f'the file is truncated or corrupt: a zip archive without its end record ({size} bytes)'
    if not head.startswith((_ZIP_MAGIC, _PICKLE_PROTO)):
        return (f'not a PyTorch checkpoint: it starts with bytes {head!r}, neither a zip archive (torch.save) '
                'nor a pickle (legacy torch.save)')
    if isinstance(error, EOFError):
        return f'the file is truncated: its pickle ends early ({size} bytes)'
    if isinstance(error, pickle.UnpicklingError):
        return f'refused by the checkpoint loading policy: {detail}'
    return f'cannot be loaded ({type(error).__name__}: {detail})'


@contextlib.contextmanager
def _only_stand_ins() -> Iterator[None]:
    """torch's user allow-list holds exactly the stand-ins while the block runs, then what it held before.

    Entries added by others (torch registers some itself; users follow torch's advice to add numpy's) are
    lifted for the duration: under the same names they would otherwise win or lose against the stand-ins at
    random.
    """
    previous = torch.serialization.get_safe_globals()
    torch.serialization.clear_safe_globals()
    torch.serialization.add_safe_globals(_STAND_INS)
    try:
        yield
    finally:
        torch.serialization.clear_safe_globals()
        torch.serialization.add_safe_globals(previous)


def load_checkpoint_file(filename: PathLike, map_location: Any = None) -> dict:
    """Loads a checkpoint file under the policy of this module.

    Args:
        filename (str | PathLike): A local file.
        map_location: As for :func:`torch.load`.

    Returns:
        dict: The checkpoint, with numpy arrays, scalars and HistoryBuffers rebuilt by the policy.

    Raises:
        FileNotFoundError: The file does not exist.
        CheckpointFileError: The file is empty, truncated, not a PyTorch file, refused by the policy, or not a dict.
    """
    if not os.path.isfile(filename):
        raise FileNotFoundError(f'{filename}: no such checkpoint file')
    try:
        _check_globals(filename)
        with _LOAD_LOCK, _only_stand_ins():
            raw = torch.load(filename, map_location=map_location, weights_only=True)
    except (pickle.UnpicklingError, EOFError, RuntimeError, ValueError, TypeError, AttributeError, KeyError,
            IndexError, UnicodeDecodeError, OverflowError, MemoryError, zipfile.BadZipFile) as error:
        raise CheckpointFileError(filename, _describe_failure(filename, error)) from None
    try:
        checkpoint = _materialize(raw)
    except _Refused as refused:
        raise CheckpointFileError(filename, f'refused by the checkpoint loading policy: {refused}') from None
    if not isinstance(checkpoint, dict):
        raise CheckpointFileError(
            filename, f'holds a {type(checkpoint).__name__}, but a checkpoint is a dict (a state dict, or one with '
            "'state_dict', 'model' or 'model_state')")
    return checkpoint


def load_from_local(filename: str, map_location: Any = None) -> dict:
    """mmengine ``CheckpointLoader`` scheme for local paths, under :func:`load_checkpoint_file`."""
    return load_checkpoint_file(os.path.expanduser(filename), map_location)


def download_checkpoint(url: str, model_dir: Optional[str] = None) -> str:
    """Downloads ``url`` into torch's hub cache (``$TORCH_HOME/hub/checkpoints``) unless it is there; returns the path.

    A file name carrying a SHA-256 prefix (``name-<hex>.pth``, the OpenMMLab mirrors' convention) is verified.
    In distributed runs rank 0 downloads first while the others wait, as mmengine does.
    """
    model_dir = model_dir or os.path.join(torch.hub.get_dir(), 'checkpoints')
    cached = os.path.join(model_dir, os.path.basename(urlparse(url).path))

    def download() -> None:
        if os.path.exists(cached):
            return
        os.makedirs(model_dir, exist_ok=True)
        hash_prefix = torch.hub.HASH_REGEX.search(os.path.basename(cached))
        print_log(f'downloading {url} to {cached}', logger='current')
        try:
            torch.hub.download_url_to_file(url, cached, hash_prefix and hash_prefix.group(1), progress=False)
        except (OSError, RuntimeError) as error:  # HTTP and network errors (URLError is an OSError), bad hash
            raise CheckpointFileError(url, f'download failed: {error}') from None

    rank, world_size = get_dist_info()
    if rank == 0:
        download()
    if world_size > 1:
        torch.distributed.barrier()
        download()  # ranks on another machine than rank 0
    return cached


def load_from_http(filename: str, map_location: Any = None) -> dict:
    """mmengine ``CheckpointLoader`` scheme for http(s) URLs: download once, then :func:`load_checkpoint_file`."""
    return load_checkpoint_file(download_checkpoint(filename), map_location)


def install_checkpoint_loaders() -> None:
    """Makes mmengine's ``CheckpointLoader`` load local files and URLs under this policy (idempotent)."""
    CheckpointLoader.register_scheme(prefixes='', loader=load_from_local, force=True)
    CheckpointLoader.register_scheme(prefixes=('http://', 'https://'), loader=load_from_http, force=True)


def stand_in_names() -> List[str]:
    """The pickled global names this policy resolves to stand-ins (for documentation and tests)."""
    return [name for _, name in _STAND_INS]
