"""The checkpoint reader: one pass over the exact bytes of a file, which can neither run code nor reach memory or
state it did not create.

A ``.pth`` file is a pickle inside a zip archive, and a pickle is a program. This module does not hand the file
to :func:`torch.load` or to any allow-list of torch's; it reads it itself, in three steps over one buffer:

1. **Read once.** The file is opened once, its size checked against a cap (:func:`max_checkpoint_bytes`) before
   anything is read, and its bytes read into one buffer. Everything below parses that buffer, so no later step can
   see other bytes than an earlier one checked, however the file changes on disk.
2. **The container torch writes, exactly.** A zip archive that starts with its first local header and ends with
   its central directory (zip64 records included, no comment), whose members are STORED, tile the file in order
   without gaps or overlaps, agree between local header, data descriptor and central directory, and have distinct
   names (also case-insensitively) under one root: exactly one ``<root>/data.pkl``, the storage records
   ``<root>/data/<digits>``, and torch's small metadata records. The legacy (pre-1.6) format is refused: its
   storages are declared in the pickle and written after it, so a storage can be declared and never written, and
   would then hold whatever heap memory it was given. torch has written the zip format by default since 1.6
   (2020); the release's checkpoints were saved by torch >= 1.7.
3. **Our own unpickler** (an interpreter of its own, not a ``pickle.Unpickler``, whose C loop builds and hashes
   objects before any check could see how deep they nest), over the opcodes torch's weights-only unpickler reads
   (protocol 2), with a fixed table
   of what each global may build: plain tensors (from ``_rebuild_tensor`` / ``_rebuild_tensor_v2``, with the
   dtype of their storage type, offsets and strides in bounds, no stride 0 over more than one element, no
   overlapping elements, no hooks and no extra metadata), dtypes, ``torch.Size``, ``torch.device``, ``OrderedDict``
   (with a state dict's ``_metadata``), ``Counter``, ``set``, bytes through ``_codecs.encode(str, 'latin1')``,
   numpy arrays, scalars and dtypes of plain numeric dtypes (numpy 1 and numpy 2 names), and mmengine's
   ``HistoryBuffer`` (its histories and length set on a new instance; its statistics methods by the name this
   process registered, or mmengine's defaults). Nothing from the file is imported or called, no attribute is set
   but those named here, and no global state is written (HistoryBuffer's class-level table is only read; torch's
   allow-list is not even read), so concurrent loads and other threads' :func:`torch.serialization.safe_globals`
   blocks cannot interfere.

Bounds, whatever the file says: nesting is at most :data:`MAX_NESTING` deep (checked as each container is built,
before any hashing) with at most ``4 * MAX_NESTING`` MARKs open; a container cannot be changed once it is inside
another (so no cycles); a walk of the result visits at most :data:`MAX_EXPANDED` values however its parts are
shared; dict keys and set elements are strings, bytes, numbers up to 64 bits or dtypes (never tuples, whose hash
can be inverted to make thousands of keys collide); a container that a reconstructor copies or walks (``set``,
``Counter``, ``torch.Size``, a HistoryBuffer's or a state dict's state) serves one object only; a pickle of P bytes
builds at most ``CONTAINERS_BASE + P / 8`` containers; and the bytes copied out of the pickle (``bytes``, numpy
data) are at most twice P. Tensors are views of the file buffer (one storage per record, so a load holds the
file's bytes once and a storage shared by several tensors stays shared, as with :func:`torch.load`); only a record
not aligned to its element size, which torch never writes (it aligns records to 64 bytes) but other zip writers
may, is copied once. So a file of N bytes costs at most 2N bytes of storage plus Python objects of at most about
50 bytes per pickle byte (the worst case, a pickle of one-byte "new dict" opcodes, measured 95 MiB for 2 MB; a
real checkpoint's pickle is some 60 kB, 22 bytes per container for UniFormer-S with its optimizer state), and time
linear in N.

Every failure raises :class:`CheckpointFileError` naming the file and the cause, with any text that came from the
file escaped (:func:`printable`).
"""
import math
import os
import pickle
import re
import stat
import struct
import zlib
from collections import Counter, OrderedDict
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

import numpy as np
import torch
from _compat_pickle import IMPORT_MAPPING, NAME_MAPPING
from mmengine.logging import HistoryBuffer

PathLike = Union[str, os.PathLike]
MapLocation = Union[None, str, torch.device, Dict[str, str], Callable[[torch.UntypedStorage, str], Any]]

MAX_NESTING = 64
CONTAINERS_BASE = 100_000
MAX_EXPANDED = 20_000_000
_DEFAULT_MAX_BYTES = 4 << 30
_MAX_OPEN_MARKS = 4 * MAX_NESTING
_MAX_TENSOR_DIMS = 64
_MAX_INDEX = 1 << 62


class CheckpointFileError(ValueError):
    """A checkpoint file that cannot be loaded: unreadable, malformed, too large, or refused by the reader."""

    def __init__(self, filename: Any, cause: str) -> None:
        super().__init__(f'{printable(str(filename), limit=None)}: {cause}')
        self.filename = filename
        self.cause = cause


class _Refused(Exception):
    """Internal: the cause of a refusal, raised anywhere in the reader and reported as CheckpointFileError."""


def printable(text: str, limit: Optional[int] = 200) -> str:
    """``text`` with control and other non-printable characters escaped (``\\x1b``, ``\\u202e``), cut to ``limit``
    characters (None: whole): how text from a file (names, keys, labels) is shown in messages and on terminals."""
    cut = text if limit is None else text[:limit]
    shown = ''.join(char if char.isprintable() else repr(char)[1:-1] for char in cut)
    return shown + (f'... ({len(text)} characters)' if len(cut) < len(text) else '')


def max_checkpoint_bytes() -> int:
    """The largest file the reader accepts: ``$UNIFORMER_MM_MAX_CHECKPOINT_BYTES``, or 4 GiB."""
    value = os.environ.get('UNIFORMER_MM_MAX_CHECKPOINT_BYTES')
    if value is None:
        return _DEFAULT_MAX_BYTES
    if not value.isdigit():
        raise ValueError(f'UNIFORMER_MM_MAX_CHECKPOINT_BYTES must be a number of bytes, got {value!r}')
    return int(value)


# ---- the container ----------------------------------------------------------------------------------------------
_LOCAL_HEADER = struct.Struct('<IHHHHHIIIHH')
_CENTRAL_HEADER = struct.Struct('<IHHHHHHIIIHHHHHII')
_END_RECORD = struct.Struct('<IHHHHIIH')
_ZIP64_END_RECORD = struct.Struct('<IQHHIIQQQQ')
_ZIP64_LOCATOR = struct.Struct('<IIQI')
_DATA_DESCRIPTOR_SIGNATURE = b'PK\x07\x08'
_FLAG_DATA_DESCRIPTOR, _FLAG_UTF8 = 0x8, 0x800
_U16, _U32 = 0xFFFF, 0xFFFFFFFF
# torch's own small records beside data.pkl and the storages (torch 1.6 to 2.x).
_METADATA_RECORDS = frozenset({'version', 'byteorder', '.format_version', '.storage_alignment', '.data/version',
                               '.data/serialization_id'})
_MAX_METADATA_BYTES = 4096
_STORAGE_RECORD = re.compile(r'data/([0-9]{1,20})')


class _Member:
    __slots__ = ('name', 'start', 'size', 'crc')

    def __init__(self, name: str, start: int, size: int, crc: int) -> None:
        self.name, self.start, self.size, self.crc = name, start, size, crc


def _zip64_values(extra: bytes, wanted: List[bool]) -> List[Optional[int]]:
    """The zip64 extended-information values (uncompressed size, compressed size, header offset) that the fixed
    fields marked 0xFFFFFFFF defer to, from an extra field that must be well formed."""
    values: List[Optional[int]] = [None] * len(wanted)
    position = 0
    while position < len(extra):
        if position + 4 > len(extra):
            raise _Refused('a malformed zip extra field')
        tag, length = struct.unpack_from('<HH', extra, position)
        body = extra[position + 4:position + 4 + length]
        if len(body) != length:
            raise _Refused('a malformed zip extra field')
        if tag == 0x0001:
            fields = iter(struct.unpack_from(f'<{len(body) // 8}Q', body))
            values = [next(fields, None) if flag else None for flag in wanted]
        position += 4 + length
    if any(flag and value is None for flag, value in zip(wanted, values)):
        raise _Refused('a zip entry defers its size or offset to a zip64 field it does not have')
    return values


def _end_of_central_directory(data: memoryview) -> Tuple[int, int, int]:
    """(number of entries, central directory offset, central directory end) from the records that must end the
    file: the end record without a comment, preceded by the zip64 locator and record when torch wrote them."""
    size = len(data)
    if size < _END_RECORD.size:
        raise _Refused('truncated or corrupt: too short for a zip archive')
    signature, disk, cd_disk, disk_entries, entries, cd_size, cd_offset, comment = \
        _END_RECORD.unpack_from(data, size - _END_RECORD.size)
    if signature != 0x06054B50:
        raise _Refused('truncated or corrupt: the file does not end with a zip end record (a checkpoint ends there, '
                       'with nothing after it)')
    if disk or cd_disk or disk_entries != entries or comment:
        raise _Refused('a zip end record torch does not write (several disks or a comment)')
    end = size - _END_RECORD.size
    locator_at = end - _ZIP64_LOCATOR.size
    if locator_at >= 0 and bytes(data[locator_at:locator_at + 4]) == b'PK\x06\x07':
        _, locator_disk, record_at, disks = _ZIP64_LOCATOR.unpack_from(data, locator_at)
        if locator_disk or disks != 1 or record_at + _ZIP64_END_RECORD.size != locator_at:
            raise _Refused('a zip64 locator that does not point at the zip64 end record just before it')
        (signature, record_size, _, _, disk, cd_disk, disk_entries, entries64, cd_size64,
         cd_offset64) = _ZIP64_END_RECORD.unpack_from(data, record_at)
        if signature != 0x06064B50 or record_size != _ZIP64_END_RECORD.size - 12 or disk or cd_disk \
                or disk_entries != entries64:
            raise _Refused('a zip64 end record torch does not write')
        for short, long, bits in ((entries, entries64, _U16), (cd_size, cd_size64, _U32),
                                  (cd_offset, cd_offset64, _U32)):
            if short != bits and short != long:
                raise _Refused('the zip end record and the zip64 end record disagree')
        entries, cd_size, cd_offset, end = entries64, cd_size64, cd_offset64, record_at
    elif _U16 in (entries, ) or _U32 in (cd_size, cd_offset):
        raise _Refused('a zip end record that defers to a zip64 record which is not there')
    if cd_offset + cd_size != end:
        raise _Refused('truncated or corrupt: the central directory does not end where the end record starts')
    return entries, cd_offset, end


def _read_members(data: memoryview) -> Dict[str, _Member]:
    """The members of a torch.save archive, checked as described in the module docstring."""
    entries, cd_offset, cd_end = _end_of_central_directory(data)
    central = []
    position = cd_offset
    for _ in range(entries):
        if position + _CENTRAL_HEADER.size > cd_end:
            raise _Refused('truncated or corrupt: the central directory is shorter than its entry count')
        (signature, _, _, flags, method, _, _, crc, packed, size, name_length, extra_length, comment_length,
         disk, _, _, offset) = _CENTRAL_HEADER.unpack_from(data, position)
        if signature != 0x02014B50:
            raise _Refused('truncated or corrupt: a broken central directory entry')
        name_at = position + _CENTRAL_HEADER.size
        raw_name = bytes(data[name_at:name_at + name_length])
        extra = bytes(data[name_at + name_length:name_at + name_length + extra_length])
        position = name_at + name_length + extra_length + comment_length
        if position > cd_end:
            raise _Refused('truncated or corrupt: a central directory entry runs past the directory')
        size, packed, offset = [value if deferred is None else deferred for value, deferred in zip(
            (size, packed, offset),
            _zip64_values(extra, [size == _U32, packed == _U32, offset == _U32]))]
        name = _member_name(raw_name, flags)
        if method != 0 or packed != size:
            raise _Refused(f'member {printable(name)} is compressed (method {method}); torch.save stores members '
                           'uncompressed')
        if flags & ~(_FLAG_DATA_DESCRIPTOR | _FLAG_UTF8) or disk or comment_length:
            raise _Refused(f'member {printable(name)} has zip features torch.save does not use (flags {flags:#x})')
        central.append((offset, name, flags, crc, size))
    if position != cd_end:
        raise _Refused('the central directory holds bytes after its last entry')
    members: Dict[str, _Member] = {}
    folded = set()
    expected_offset = 0
    for offset, name, flags, crc, size in central:
        if offset != expected_offset:
            raise _Refused(f'member {printable(name)} does not start where the previous record ends (bytes before, '
                           'between or shared by records)')
        if name in members or name.casefold() in folded:
            raise _Refused(f'the archive names {printable(name)} twice (case-insensitively)')
        folded.add(name.casefold())
        start, expected_offset = _check_local_record(data, offset, name, flags, crc, size, cd_offset)
        members[name] = _Member(name, start, size, crc)
    if expected_offset != cd_offset:
        raise _Refused('bytes between the last record and the central directory')
    return members


def _member_name(raw: bytes, flags: int) -> str:
    try:
        name = raw.decode('utf-8' if flags & _FLAG_UTF8 else 'ascii')
    except UnicodeDecodeError:
        raise _Refused(f'a member name that is not {"UTF-8" if flags & _FLAG_UTF8 else "ASCII"}: {raw[:60]!r}') \
            from None
    if not name or not name.isprintable():
        raise _Refused(f'a member name with control characters: {printable(name)}')
    return name


def _check_local_record(data: memoryview, offset: int, name: str, flags: int, crc: int, size: int,
                        limit: int) -> Tuple[int, int]:
    """Checks one local header, its data and its data descriptor against the central directory; returns (data
    start, record end)."""
    if offset + _LOCAL_HEADER.size > limit:
        raise _Refused(f'truncated or corrupt: member {printable(name)} runs past the central directory')
    (signature, _, local_flags, method, _, _, local_crc, local_packed, local_size, name_length,
     extra_length) = _LOCAL_HEADER.unpack_from(data, offset)
    name_at = offset + _LOCAL_HEADER.size
    if signature != 0x04034B50 or local_flags != flags or method != 0 or \
            bytes(data[name_at:name_at + name_length]) != name.encode('utf-8' if flags & _FLAG_UTF8 else 'ascii'):
        raise _Refused(f'the local header of member {printable(name)} disagrees with the central directory')
    start = name_at + name_length + extra_length
    end = start + size
    if end > limit:
        raise _Refused(f'truncated or corrupt: member {printable(name)} runs past the central directory')
    if not flags & _FLAG_DATA_DESCRIPTOR:
        deferred = _zip64_values(bytes(data[name_at + name_length:start]),
                                 [local_size == _U32, local_packed == _U32, False])
        if local_crc != crc or (deferred[0] if local_size == _U32 else local_size) != size or \
                (deferred[1] if local_packed == _U32 else local_packed) != size:
            raise _Refused(f'the local header of member {printable(name)} disagrees with the central directory')
        return start, end
    if (local_crc, local_packed, local_size) not in ((0, 0, 0), (crc, size, size)):
        raise _Refused(f'the local header of member {printable(name)} disagrees with the central directory')
    for signature_length in (4, 0):
        for form in ('<III', '<IQQ'):
            length = signature_length + struct.calcsize(form)
            if end + length > limit or \
                    (signature_length and bytes(data[end:end + 4]) != _DATA_DESCRIPTOR_SIGNATURE):
                continue
            if struct.unpack_from(form, data, end + signature_length) == (crc, size, size):
                return start, end + length
    raise _Refused(f'the data descriptor of member {printable(name)} disagrees with the central directory')


class _Archive:
    """The records of a torch.save archive: the pickle, the storages by key, and the byte order."""

    def __init__(self, data: memoryview) -> None:
        members = _read_members(data)
        roots = {name.split('/', 1)[0] for name in members}
        pickles = [name for name in members if name.endswith('/data.pkl') and name.count('/') == 1]
        if len(roots) != 1 or len(pickles) != 1:
            raise _Refused('not a torch.save archive: it needs exactly one <root>/data.pkl and every member under '
                           f'that root (found {len(pickles)} data.pkl and roots {printable(str(sorted(roots)))})')
        root = pickles[0][:-len('/data.pkl')]
        self.storages: Dict[str, _Member] = {}
        metadata = {}
        for name, member in members.items():
            inner = name[len(root) + 1:] if name.startswith(root + '/') else None
            storage = _STORAGE_RECORD.fullmatch(inner or '')
            if storage:
                self.storages[storage.group(1)] = member
            elif inner in _METADATA_RECORDS:
                metadata[inner] = self._small(data, member)
            elif inner != 'data.pkl':
                raise _Refused(f'member {printable(name)} is not part of a torch.save checkpoint')
        self.pickle = self._small(data, members[pickles[0]], limit=len(data))
        byteorder = metadata.get('byteorder', b'little')
        if byteorder != b'little':
            raise _Refused(f'storages in byte order {printable(byteorder.decode("latin1"))}; only little-endian '
                           'checkpoints are read')

    @staticmethod
    def _small(data: memoryview, member: _Member, limit: int = _MAX_METADATA_BYTES) -> bytes:
        if member.size > limit:
            raise _Refused(f'member {printable(member.name)} is {member.size} bytes, more than torch writes')
        content = bytes(data[member.start:member.start + member.size])
        if zlib.crc32(content) != member.crc:
            raise _Refused(f'member {printable(member.name)} is corrupt (its CRC-32 does not match)')
        return content


# ---- what the pickle may build -----------------------------------------------------------------------------------
class _Marker:
    """A global the pickle named: only usable as a callable or argument of our own reconstructors."""
    __slots__ = ('name', )

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


class _Pending:
    """An object made by REDUCE or NEWOBJ that only exists once BUILD gives it its state."""
    __slots__ = ('kind', 'args', 'memo_keys', 'built')

    def __init__(self, kind: str, args: tuple) -> None:
        self.kind, self.args, self.memo_keys, self.built = kind, args, [], False


class _Storage:
    """A storage record, as a persistent id names it: bytes of the file buffer with a dtype."""
    __slots__ = ('storage', 'dtype', 'numel')

    def __init__(self, storage: torch.UntypedStorage, dtype: torch.dtype, numel: int) -> None:
        self.storage, self.dtype, self.numel = storage, dtype, numel


class _Statistic:
    """``getattr(HistoryBuffer, name)``: a statistic method, by name."""
    __slots__ = ('name', )

    def __init__(self, name: str) -> None:
        self.name = name


_DTYPES = {str(dtype): dtype for dtype in vars(torch).values() if isinstance(dtype, torch.dtype)}
# The legacy storage type names by which torch.save marks a storage's dtype.
_STORAGE_DTYPES = {
    'torch.FloatStorage': torch.float32, 'torch.DoubleStorage': torch.float64, 'torch.HalfStorage': torch.float16,
    'torch.BFloat16Storage': torch.bfloat16, 'torch.LongStorage': torch.int64, 'torch.IntStorage': torch.int32,
    'torch.ShortStorage': torch.int16, 'torch.CharStorage': torch.int8, 'torch.ByteStorage': torch.uint8,
    'torch.BoolStorage': torch.bool, 'torch.ComplexFloatStorage': torch.complex64,
    'torch.ComplexDoubleStorage': torch.complex128}
_RECONSTRUCTORS = frozenset({
    'torch._utils._rebuild_tensor', 'torch._utils._rebuild_tensor_v2', 'torch.Size', 'torch.device',
    'collections.OrderedDict', 'collections.Counter', 'builtins.set', 'builtins.bytes', '_codecs.encode',
    'builtins.getattr', 'numpy.dtype', 'numpy.core.multiarray._reconstruct', 'numpy._core.multiarray._reconstruct',
    'numpy.core.multiarray.scalar', 'numpy._core.multiarray.scalar', 'numpy.ndarray',
    'mmengine.logging.history_buffer.HistoryBuffer'})
_DEVICE_TYPES = frozenset({'cpu', 'cuda', 'mps', 'xpu', 'meta', 'hpu', 'npu', 'mlu', 'musa', 'privateuseone'})
# dtype codes numpy writes for the plain types that logs and dataset metadata hold.
_PLAIN_DTYPE_CODES = frozenset(['b1'] + [f'{kind}{size}' for kind in 'iu' for size in (1, 2, 4, 8)]
                               + ['f2', 'f4', 'f8', 'c8', 'c16'])
_HISTORY_BUFFER_STATE = frozenset({'max_length', '_log_history', '_count_history', 'statistics_methods'})
# What mmengine registers with the first HistoryBuffer it constructs.
_DEFAULT_STATISTICS = frozenset({'min', 'max', 'current', 'mean'})
_SCALARS = (str, int, float, bool, type(None), bytes, torch.dtype, torch.device, torch.Tensor, np.ndarray,
            np.generic, np.dtype, HistoryBuffer)
_KEY_SCALARS = (str, int, float, bool, type(None), bytes, torch.dtype, np.generic)


def _short(value: Any) -> str:
    """A bounded description of a value from the file, for messages."""
    if isinstance(value, (str, bytes)):
        return printable(repr(value), 80)
    wide = isinstance(value, int) and value.bit_length() > 64
    if isinstance(value, (int, float, bool, type(None), _Marker)) and not wide:
        return repr(value)
    return f'a {type(value).__name__}' if not isinstance(value, _Pending) else f'an unbuilt {value.kind}'


def _int(value: Any, what: str, minimum: int = 0, maximum: int = _MAX_INDEX) -> int:
    if type(value) is not int or not minimum <= value < maximum:
        raise _Refused(f'{what} must be an int in [{minimum}, {maximum}), got {_short(value)}')
    return value


class _Node:
    """What the reader knows of a container it built: its nesting depth, its size with shared parts counted at every
    place they appear, whether it may still change, whether it holds markers, and whether a reconstructor that
    copies or walks it has already used it. The object is held so that its id stays unique for the whole load."""
    __slots__ = ('obj', 'depth', 'expanded', 'frozen', 'markers', 'consumed')

    def __init__(self, depth: int = 1, expanded: int = 1, markers: bool = False, frozen: bool = False) -> None:
        self.obj, self.depth, self.expanded = None, depth, expanded
        self.frozen, self.markers, self.consumed = frozen, markers, False

    def include(self, child: '_Node') -> None:
        self.depth = max(self.depth, child.depth + 1)
        self.expanded += child.expanded
        self.markers = self.markers or child.markers


_LEAF = _Node(depth=0, frozen=True)
_MARKER_LEAF = _Node(depth=0, markers=True, frozen=True)


class _Unpickler:
    """Runs the protocol-2 opcodes that torch.save writes over ``data``, building only what the table allows.

    Args:
        data (bytes): The data.pkl record.
        make_storage (Callable): ``(key, dtype, numel, location) -> _Storage`` for a persistent id.
    """

    def __init__(self, data: bytes, make_storage: Callable[[str, torch.dtype, int, str], _Storage]) -> None:
        self.data = data
        self.position = 0
        self.stack: List[Any] = []
        self.marks: List[List[Any]] = []
        self.memo: Dict[int, Any] = {}
        self.nodes: Dict[int, _Node] = {}
        self.container_limit = CONTAINERS_BASE + len(data) // 8
        self.copied = 0
        self.copy_budget = 2 * len(data) + (1 << 20)
        self.make_storage = make_storage
        # The opcodes torch's weights-only unpickler reads, which are all torch.save writes.
        self.dispatch = {
            pickle.PROTO: self.proto, pickle.GLOBAL: self.global_,
            pickle.NEWOBJ: self.newobj, pickle.REDUCE: self.reduce, pickle.BUILD: self.build,
            pickle.APPEND: self.append, pickle.APPENDS: self.appends, pickle.SETITEM: self.setitem,
            pickle.SETITEMS: self.setitems, pickle.MARK: self.mark, pickle.TUPLE: self.tuple_,
            pickle.TUPLE1: lambda: self.small_tuple(1), pickle.TUPLE2: lambda: self.small_tuple(2),
            pickle.TUPLE3: lambda: self.small_tuple(3), pickle.NONE: lambda: self.push(None),
            pickle.NEWTRUE: lambda: self.push(True), pickle.NEWFALSE: lambda: self.push(False),
            pickle.EMPTY_TUPLE: lambda: self.push(self.track((), _Node())),
            pickle.EMPTY_LIST: lambda: self.new_container([]), pickle.EMPTY_DICT: lambda: self.new_container({}),
            pickle.EMPTY_SET: lambda: self.new_container(set()),
            pickle.BININT: lambda: self.push(self.unpack('<i')), pickle.BININT1: lambda: self.push(self.read(1)[0]),
            pickle.BININT2: lambda: self.push(self.unpack('<H')), pickle.BINFLOAT: lambda: self.push(self.unpack('>d')),
            pickle.BINUNICODE: self.binunicode, pickle.SHORT_BINSTRING: self.short_binstring,
            pickle.BINPERSID: self.binpersid, pickle.BINGET: lambda: self.get(self.read(1)[0]),
            pickle.LONG_BINGET: lambda: self.get(self.unpack('<I')), pickle.BINPUT: lambda: self.put(self.read(1)[0]),
            pickle.LONG_BINPUT: lambda: self.put(self.unpack('<I')), pickle.LONG1: self.long1,
        }

    # -- reading
    def read(self, count: int) -> bytes:
        end = self.position + count
        if end > len(self.data):
            raise _Refused('truncated: the pickle ends in the middle of an opcode')
        chunk = self.data[self.position:end]
        self.position = end
        return chunk

    def unpack(self, form: str) -> Any:
        return struct.unpack(form, self.read(struct.calcsize(form)))[0]

    def load(self) -> Any:
        while True:
            opcode = self.read(1)
            if opcode == pickle.STOP:
                return self.stop()
            handler = self.dispatch.get(opcode)
            if handler is None:
                raise _Refused(f'pickle opcode {opcode[0]:#04x} at byte {self.position - 1}, which torch.save does '
                               'not write')
            handler()

    # -- object bookkeeping
    def track(self, obj: Any, node: '_Node') -> Any:
        if id(obj) not in self.nodes and len(self.nodes) >= self.container_limit:
            raise _Refused(f'more than {self.container_limit} containers in a pickle of {len(self.data)} bytes')
        if node.depth > MAX_NESTING:
            raise _Refused(f'containers nested more than {MAX_NESTING} deep')
        if node.expanded > MAX_EXPANDED:
            raise _Refused(f'more than {MAX_EXPANDED} values when shared containers are counted at every place '
                           'they appear (a walk of the checkpoint would not end)')
        self.nodes[id(obj)] = node
        node.obj = obj
        return obj

    def push(self, value: Any) -> None:
        self.stack.append(value)

    def new_container(self, container: Any) -> None:
        self.push(self.track(container, _Node()))

    def pop(self) -> Any:
        if not self.stack:
            raise _Refused('an opcode with too few values on the stack')
        return self.stack.pop()

    def top(self) -> Any:
        if not self.stack:
            raise _Refused('an opcode with too few values on the stack')
        return self.stack[-1]

    def pop_mark(self) -> List[Any]:
        if not self.marks:
            raise _Refused('an opcode that needs a MARK without one')
        items = self.stack
        self.stack = self.marks.pop()
        return items

    def nest(self, value: Any) -> '_Node':
        """Registers ``value`` as part of another object and returns its node. A mutable container is frozen
        from here on; an unbuilt object is refused.

        Markers (globals, storages, statistics) may sit in containers, but a container holding one, however
        deep, is marked too and can only be consumed by a reconstructor that checks it, never returned.
        """
        if isinstance(value, (_Marker, _Storage, _Statistic)):
            return _MARKER_LEAF
        if isinstance(value, _SCALARS):
            return _LEAF
        node = self.nodes.get(id(value))
        if node is None:
            raise _Refused(f'{_short(value)} used before its state was given' if isinstance(value, _Pending)
                           else f'{_short(value)} where a value was expected')
        node.frozen = True
        return node

    def add_to(self, container: Any, *children: Any) -> None:
        node = self.nodes.get(id(container))
        if node is None or node.frozen:
            raise _Refused(f'{_short(container)} modified after it was placed inside another object (a cycle or '
                           'a pickle torch.save does not write)' if node else
                           f'items added to {_short(container)}, which is not a list or dict')
        for child in children:
            if child is container:
                raise _Refused('a container that contains itself')
            node.include(self.nest(child))
        self.track(container, node)

    def plain(self, value: Any, what: str) -> Any:
        """``value``, which must hold no markers: it becomes part of what the load returns."""
        node = self.nodes.get(id(value))
        if node is not None and node.markers:
            raise _Refused(f'{what} holding globals, storages or statistics outside the place they belong')
        return value

    def key(self, value: Any) -> Any:
        """Checks that a dict key or set element hashes in constant time and cannot be made to collide (strings and
        bytes hash with a per-process secret; ints up to 64 bits and floats spread by value), before it is
        hashed. Tuples are not keys: their hash can be inverted, so that thousands of keys collide."""
        wide = isinstance(value, int) and value.bit_length() > 63
        if not isinstance(value, _KEY_SCALARS) or wide:
            raise _Refused(f'{_short(value)} as a dict key or set element (keys are strings, bytes, numbers up to 64 '
                           'bits or dtypes)')
        return value

    def consume(self, container: Any, what: str) -> Any:
        """``container``, which a reconstructor copies or walks: only once, so that a shared container cannot make
        a small file cost copies without end."""
        node = self.nodes.get(id(container))
        if node is None or node.consumed:
            raise _Refused(f'{what} built from a container that was used for another object already')
        node.consumed = True
        return container

    def make_tuple(self, items: List[Any]) -> tuple:
        node = _Node()
        for item in items:
            node.include(self.nest(item))
        return self.track(tuple(items), node)

    def charge(self, size: int) -> None:
        self.copied += size
        if self.copied > self.copy_budget:
            raise _Refused('more bytes copied out of the pickle than it holds')

    # -- opcodes
    def proto(self) -> None:
        if self.read(1)[0] != 2:
            raise _Refused('a pickle protocol other than 2, which torch.save writes')

    def stop(self) -> Any:
        if self.marks or len(self.stack) != 1:
            raise _Refused('a pickle that does not end with exactly one value')
        self.nest(self.plain(self.stack[0], 'the checkpoint'))
        return self.stack[0]

    def global_(self) -> None:
        module = self.readline('module')
        name = self.readline('name')
        if (module, name) in NAME_MAPPING:
            module, name = NAME_MAPPING[(module, name)]
        elif module in IMPORT_MAPPING:
            module = IMPORT_MAPPING[module]
        full = f'{module}.{name}'
        if full in _DTYPES:
            self.push(_DTYPES[full])
        elif full in _RECONSTRUCTORS or full in _STORAGE_DTYPES:
            self.push(_Marker(full))
        else:
            raise _Refused(f'the global {printable(full)}, which a checkpoint has no use for')

    def readline(self, what: str) -> str:
        end = self.data.find(b'\n', self.position, self.position + 256)
        if end < 0:
            raise _Refused(f'a GLOBAL without a short {what}')
        raw = self.read(end - self.position + 1)[:-1]
        try:
            return raw.decode('ascii')
        except UnicodeDecodeError:
            raise _Refused(f'a GLOBAL whose {what} is not ASCII: {raw[:60]!r}') from None

    def binunicode(self) -> None:
        length = self.unpack('<I')
        try:
            self.push(self.read(length).decode('utf-8', 'surrogatepass'))
        except UnicodeDecodeError:
            raise _Refused('a string that is not UTF-8') from None

    def short_binstring(self) -> None:
        try:
            self.push(self.read(self.read(1)[0]).decode('utf-8'))
        except UnicodeDecodeError:
            raise _Refused('a string that is not UTF-8') from None

    def long1(self) -> None:
        self.push(int.from_bytes(self.read(self.read(1)[0]), 'little', signed=True))

    def get(self, index: int) -> None:
        if index not in self.memo:
            raise _Refused(f'memo entry {index} read before it was written')
        self.stack.append(self.memo[index])

    def put(self, index: int) -> None:
        value = self.top()
        self.memo[index] = value
        if isinstance(value, _Pending):
            value.memo_keys.append(index)

    def mark(self) -> None:
        if len(self.marks) >= _MAX_OPEN_MARKS:
            raise _Refused(f'more than {_MAX_OPEN_MARKS} MARKs open at once')
        self.marks.append(self.stack)
        self.stack = []

    def tuple_(self) -> None:
        items = self.pop_mark()
        self.push(self.make_tuple(items))

    def small_tuple(self, size: int) -> None:
        if len(self.stack) < size:
            raise _Refused('an opcode with too few values on the stack')
        items = self.stack[-size:]
        del self.stack[-size:]
        self.push(self.make_tuple(items))

    def append(self) -> None:
        item = self.pop()
        target = self.top()
        if type(target) is not list:
            raise _Refused(f'APPEND to {_short(target)}')
        self.add_to(target, item)
        target.append(item)

    def appends(self) -> None:
        items = self.pop_mark()
        target = self.top()
        if type(target) is not list:
            raise _Refused(f'APPENDS to {_short(target)}')
        self.add_to(target, *items)
        target.extend(items)

    def setitem(self) -> None:
        value = self.pop()
        key = self.pop()
        self.set_items(self.top(), [key, value])

    def setitems(self) -> None:
        items = self.pop_mark()
        if len(items) % 2:
            raise _Refused('SETITEMS with an odd number of values')
        self.set_items(self.top(), items)

    def set_items(self, target: Any, items: List[Any]) -> None:
        if type(target) not in (dict, OrderedDict):
            raise _Refused(f'SETITEM on {_short(target)}')
        self.add_to(target, *items)
        for index in range(0, len(items), 2):
            target[self.key(items[index])] = items[index + 1]

    def binpersid(self) -> None:
        pid = self.pop()
        if type(pid) is not tuple or len(pid) != 5 or type(pid[0]) is not str or pid[0] != 'storage' \
                or not isinstance(pid[1], _Marker) \
                or pid[1].name not in _STORAGE_DTYPES or type(pid[2]) is not str or type(pid[3]) is not str:
            raise _Refused(f'a persistent id other than (\'storage\', <storage type>, key, location, size): '
                           f'{_short(pid)}')
        if not re.fullmatch(r'[a-z_]{1,20}(:[0-9]{1,5})?', pid[3]):
            raise _Refused(f'a storage location {_short(pid[3])}')
        self.push(self.make_storage(pid[2], _STORAGE_DTYPES[pid[1].name], _int(pid[4], 'a storage size'), pid[3]))

    def newobj(self) -> None:
        args = self.pop()
        cls = self.pop()
        if not (isinstance(cls, _Marker) and cls.name == 'mmengine.logging.history_buffer.HistoryBuffer'
                and type(args) is tuple and not args):
            raise _Refused(f'NEWOBJ of {_short(cls)}: only HistoryBuffer is created this way')
        self.push(_Pending('HistoryBuffer', ()))

    def reduce(self) -> None:
        args = self.pop()
        func = self.pop()
        if not isinstance(func, _Marker) or type(args) is not tuple:
            raise _Refused(f'a call of {_short(func)}')
        self.push(_reconstruct(self, func.name, args))

    def build(self) -> None:
        state = self.pop()
        target = self.top()
        if type(target) is OrderedDict:
            self.stack[-1] = _ordered_dict_metadata(self, target, state)
            return
        if not isinstance(target, _Pending) or target.built:
            raise _Refused(f'BUILD of {_short(target)}')
        self.nest(state)
        result = _BUILDERS[target.kind](self, target, state)
        target.built = True
        self.stack[-1] = result
        for key in target.memo_keys:
            if self.memo.get(key) is target:
                self.memo[key] = result


def _ordered_dict_metadata(unpickler: _Unpickler, target: OrderedDict, state: Any) -> OrderedDict:
    """A state dict's ``_metadata`` (module versions), the only attribute an OrderedDict may receive."""
    if type(state) is not dict or set(state) != {'_metadata'} or \
            type(state['_metadata']) not in (dict, OrderedDict):
        raise _Refused(f'OrderedDict state other than {{"_metadata": dict}}: {_short(state)}')
    unpickler.consume(state, 'a state dict\'s metadata')
    for module, versions in unpickler.consume(state['_metadata'], 'a state dict\'s metadata').items():
        if type(versions) is not dict or not all(
                type(k) is str and type(v) in (int, str, bool, type(None))
                for k, v in unpickler.consume(versions, 'a state dict\'s metadata').items()):
            raise _Refused(f'state dict metadata for {_short(module)} is not a dict of plain values')
    unpickler.add_to(target, state)
    target._metadata = state['_metadata']
    return target


def _reconstruct(unpickler: _Unpickler, name: str, args: tuple) -> Any:
    unpickler.nest(args)
    if name in ('torch._utils._rebuild_tensor', 'torch._utils._rebuild_tensor_v2'):
        return _rebuild_tensor(args, v2=name.endswith('v2'))
    if name == 'torch.Size':
        if len(args) != 1 or type(args[0]) is not tuple or len(args[0]) > _MAX_TENSOR_DIMS:
            raise _Refused(f'torch.Size takes one tuple of at most {_MAX_TENSOR_DIMS} sizes')
        sizes = unpickler.consume(args[0], 'a torch.Size')
        return unpickler.track(torch.Size([_int(size, 'a torch.Size entry') for size in sizes]),
                               _Node(expanded=len(sizes) + 1))
    if name == 'torch.device':
        if not 1 <= len(args) <= 2 or type(args[0]) is not str or \
                args[0].split(':')[0] not in _DEVICE_TYPES or len(args[0]) > 24:
            raise _Refused(f'torch.device{_short(args)}')
        return torch.device(*[args[0]] + [_int(index, 'a device index', maximum=1 << 16) for index in args[1:]])
    if name == 'collections.OrderedDict':
        if args:
            raise _Refused('OrderedDict called with arguments; torch.save fills it with SETITEMS')
        return unpickler.track(OrderedDict(), _Node())
    if name == 'collections.Counter':
        if len(args) != 1 or type(args[0]) is not dict:
            raise _Refused('Counter takes one dict of integer counts')
        counts = unpickler.plain(unpickler.consume(args[0], 'a Counter'), 'a Counter')
        if not all(type(count) is int for count in counts.values()):
            raise _Refused('Counter takes one dict of integer counts')
        node = unpickler.nodes[id(counts)]
        return unpickler.track(Counter(counts), _Node(depth=node.depth, expanded=node.expanded))
    if name == 'builtins.set':
        if len(args) != 1 or type(args[0]) is not list:
            raise _Refused('set takes one list')
        items = [unpickler.key(item) for item in unpickler.plain(unpickler.consume(args[0], 'a set'), 'a set')]
        node = unpickler.nodes[id(args[0])]
        return unpickler.track(set(items), _Node(depth=node.depth, expanded=node.expanded))
    if name == 'builtins.bytes':
        if args:
            raise _Refused('bytes(...) is read only without arguments, as b""')
        return b''
    if name == '_codecs.encode':
        if len(args) != 2 or type(args[0]) is not str or args[1] != 'latin1':
            raise _Refused(f'_codecs.encode is read only as encode(str, "latin1"), got encode{_short(args)}')
        unpickler.charge(len(args[0]))
        try:
            return args[0].encode('latin1')
        except UnicodeEncodeError:
            raise _Refused('_codecs.encode of a string outside latin-1') from None
    if name == 'builtins.getattr':
        if len(args) != 2 or not isinstance(args[0], _Marker) or \
                args[0].name != 'mmengine.logging.history_buffer.HistoryBuffer' or type(args[1]) is not str:
            raise _Refused(f'getattr is read only as getattr(HistoryBuffer, <statistic name>), got getattr'
                           f'({", ".join(_short(arg) for arg in args[:2])})')
        return _Statistic(args[1])
    if name == 'numpy.dtype':
        return _Pending('numpy dtype', args)
    if name.endswith('multiarray._reconstruct'):
        if len(args) != 3 or not isinstance(args[0], _Marker) or args[0].name != 'numpy.ndarray' or \
                type(args[1]) is not tuple or args[1] != (0, ) or type(args[2]) is not bytes or args[2] != b'b':
            raise _Refused(f'numpy array reconstruction with unexpected arguments {_short(args)}')
        return _Pending('numpy array', args)
    if name.endswith('multiarray.scalar'):
        if len(args) != 2:
            raise _Refused(f'a numpy scalar takes (dtype, data), got {len(args)} arguments')
        dtype, data = _numpy_dtype(args[0]), args[1]
        if type(data) is not bytes or len(data) != dtype.itemsize:
            raise _Refused(f'a numpy {dtype} scalar needs {dtype.itemsize} bytes of data, the file gives '
                           f'{len(data) if type(data) is bytes else _short(data)}')
        unpickler.charge(len(data))
        return np.frombuffer(data, dtype=dtype)[0].copy()
    raise _Refused(f'{printable(name)} called, which is only an argument')


def _rebuild_tensor(args: tuple, v2: bool) -> torch.Tensor:
    expected = (6, 7) if v2 else (4, )
    if len(args) not in expected:
        raise _Refused(f'a tensor rebuilt from {len(args)} arguments')
    storage, offset, size, stride = args[:4]
    if not isinstance(storage, _Storage):
        raise _Refused(f'a tensor over {_short(storage)} instead of a storage record')
    if v2:
        requires_grad, hooks = args[4], args[5]
        if type(requires_grad) is not bool:
            raise _Refused(f'a tensor requires_grad of {_short(requires_grad)}')
        if type(hooks) is not OrderedDict or hooks:
            raise _Refused('a tensor with backward hooks')
        if len(args) == 7 and not (args[6] is None or (type(args[6]) is dict and not args[6])):
            raise _Refused('a tensor with extra metadata (conjugate or negative bits, or a subclass state)')
    for what, values in (('size', size), ('stride', stride)):
        if type(values) is not tuple or len(values) > _MAX_TENSOR_DIMS:
            raise _Refused(f'a tensor {what} that is not a tuple of at most {_MAX_TENSOR_DIMS} ints')
    size = [_int(value, 'a tensor size') for value in size]
    stride = [_int(value, 'a tensor stride') for value in stride]
    offset = _int(offset, 'a tensor storage offset')
    if len(size) != len(stride):
        raise _Refused(f'a tensor of {len(size)} sizes and {len(stride)} strides')
    numel = math.prod(size)
    if numel >= _MAX_INDEX:
        raise _Refused(f'a tensor of {numel} elements')
    if numel:
        extent = 0
        for length, step in sorted(((length, step) for length, step in zip(size, stride) if length > 1),
                                   key=lambda pair: pair[1]):
            if step <= extent:
                raise _Refused(f'a tensor whose strides {tuple(stride)} make elements overlap (size {tuple(size)})'
                               if step else f'a tensor of size {tuple(size)} with stride 0 (one element repeated)')
            extent += (length - 1) * step
        if offset + extent >= storage.numel:
            raise _Refused(f'a tensor (offset {offset}, size {tuple(size)}, stride {tuple(stride)}) reaching past '
                           f'its storage of {storage.numel} elements')
    elif offset > storage.numel:
        raise _Refused(f'an empty tensor at offset {offset} past its storage of {storage.numel} elements')
    empty = torch.empty(0, dtype=storage.dtype, device=storage.storage.device)
    tensor = empty.set_(storage.storage, offset, size, stride)
    if v2 and args[4]:
        tensor.requires_grad_(True)
    return tensor


def _numpy_dtype(value: Any) -> np.dtype:
    if not isinstance(value, np.dtype):
        raise _Refused(f'expected a numpy dtype, got {_short(value)}')
    return value


def _build_numpy_dtype(unpickler: _Unpickler, pending: _Pending, state: Any) -> np.dtype:
    if len(pending.args) != 3:
        raise _Refused(f'numpy.dtype takes (code, align, copy), got {len(pending.args)} arguments')
    code, align, copy = pending.args
    if type(code) is not str or code not in _PLAIN_DTYPE_CODES:
        raise _Refused(f'numpy dtype {_short(code)} is not a plain numeric dtype (accepted: '
                       f'{", ".join(sorted(_PLAIN_DTYPE_CODES))})')
    if align not in (0, False) or copy not in (1, True):
        raise _Refused(f'numpy.dtype({code!r}, align={_short(align)}, copy={_short(copy)}) is not how numpy '
                       'pickles')
    # numpy pickles a plain dtype's state as (3, byte order, None, None, None, -1, -1, 0); nothing else.
    if not (type(state) is tuple and len(state) == 8 and state[0] == 3 and state[1] in ('<', '>', '|', '=')
            and state[2:] == (None, None, None, -1, -1, 0)):
        raise _Refused(f'numpy dtype {code!r} carries a state numpy never writes for it')
    dtype = np.dtype(code)
    return dtype if state[1] in ('|', '=') else dtype.newbyteorder(state[1])


def _build_numpy_array(unpickler: _Unpickler, pending: _Pending, state: Any) -> np.ndarray:
    if not (type(state) is tuple and len(state) == 5 and state[0] == 1):
        raise _Refused('numpy array state must be (1, shape, dtype, is_fortran, data)')
    _, shape, dtype, is_fortran, data = state
    if type(shape) is not tuple or len(shape) > 32:
        raise _Refused('a numpy array shape that is not a tuple of at most 32 ints')
    shape = tuple(_int(size, 'an array dimension') for size in shape)
    dtype = _numpy_dtype(dtype)
    if type(is_fortran) is not bool or type(data) is not bytes:
        raise _Refused('numpy array state with a non-bool is_fortran or non-bytes data')
    count = math.prod(shape)
    if count * dtype.itemsize != len(data) or count >= _MAX_INDEX:
        raise _Refused(f'a numpy array of shape {shape} and dtype {dtype} needs {count * dtype.itemsize} bytes, '
                       f'the file gives {len(data)}')
    unpickler.charge(len(data))
    flat = np.frombuffer(data, dtype=dtype)
    return flat.reshape(shape, order='F' if is_fortran else 'C').copy(order='K')


def _build_history_buffer(unpickler: _Unpickler, pending: _Pending, state: Any) -> HistoryBuffer:
    if type(state) is not dict or not {'max_length', '_log_history', '_count_history'} <= state.keys() \
            or not state.keys() <= _HISTORY_BUFFER_STATE:
        raise _Refused(f'HistoryBuffer state must have keys {sorted(_HISTORY_BUFFER_STATE)}, got '
                       f'{printable(str(sorted(map(str, state))) if type(state) is dict else _short(state))}')
    unpickler.consume(state, 'a HistoryBuffer')
    max_length = _int(state['max_length'], 'HistoryBuffer max_length', minimum=1)
    histories = [state['_log_history'], state['_count_history']]
    if not all(type(history) is np.ndarray and history.ndim == 1 for history in histories) \
            or len(histories[0]) != len(histories[1]):
        raise _Refused('HistoryBuffer histories must be two 1-D numpy arrays of one length')
    statistics = state.get('statistics_methods', {})
    if type(statistics) is not dict:
        raise _Refused('HistoryBuffer statistics must be a dict')
    if statistics and not unpickler.nodes[id(statistics)].consumed:  # mmengine pickles its class-level table:
        unpickler.nodes[id(statistics)].consumed = True              # one dict for every buffer, checked once
        for name, method in statistics.items():
            if not isinstance(method, _Statistic) or method.name != name:
                raise _Refused(f'HistoryBuffer statistic {_short(name)} must be getattr(HistoryBuffer, '
                               f'{_short(name)})')
            if name not in HistoryBuffer._statistics_methods and name not in _DEFAULT_STATISTICS:
                raise _Refused(f'HistoryBuffer statistic {_short(name)} is not registered in this process; import '
                               'the code that registers it (HistoryBuffer.register_statistics) before loading')
    # Not through the constructor: it copies the histories (an array shared by many buffers would be copied for
    # each) and writes mmengine's default statistics into the class-level table.
    buffer = HistoryBuffer.__new__(HistoryBuffer)
    buffer.max_length = max_length
    buffer._log_history, buffer._count_history = (history[-max_length:] for history in histories)
    return buffer


_BUILDERS = {'numpy dtype': _build_numpy_dtype, 'numpy array': _build_numpy_array,
             'HistoryBuffer': _build_history_buffer}


# ---- reading a file ----------------------------------------------------------------------------------------------
def _map_storage(storage: torch.UntypedStorage, location: str, map_location: MapLocation) -> torch.UntypedStorage:
    if map_location is None:
        return storage
    if isinstance(map_location, dict):
        target = map_location.get(location, location)
    elif callable(map_location):
        mapped = map_location(storage, location)
        if mapped is None:
            return storage
        if not isinstance(mapped, torch.UntypedStorage) or mapped.nbytes() != storage.nbytes():
            raise TypeError(f'map_location returned {type(mapped).__name__}, not a storage of the same size')
        return mapped
    else:
        target = map_location
    device = torch.device(target)
    if device.type == 'cpu':
        return storage
    return torch.empty(0, dtype=torch.uint8).set_(storage).to(device).untyped_storage()


def read_checkpoint(data: Union[bytes, bytearray, memoryview], source: Any = 'checkpoint',
                    map_location: MapLocation = None) -> dict:
    """Reads a checkpoint from the bytes of a file (see the module docstring).

    Tensors are views of ``data``, which must therefore stay unchanged: a ``bytearray`` the caller hands over (a
    read-only buffer is copied first).

    Args:
        data (bytearray | bytes | memoryview): The whole file.
        source: The file's name or URL, for messages.
        map_location: As for :func:`torch.load`: None or ``'cpu'`` keeps tensors on the CPU whatever the file
            says, a device or a ``{saved: wanted}`` dict moves them, a callable ``(storage, location)`` may return
            another storage.

    Raises:
        CheckpointFileError: The bytes are not a torch.save checkpoint of plain content, or hold no dict.
    """
    view = memoryview(data).cast('B')
    if view.readonly:  # tensors are views of the buffer and must be writable, as torch.load's are
        view = memoryview(bytearray(view))
    try:
        if len(view) == 0:
            raise _Refused('the file is empty (0 bytes)')
        head = bytes(view[:4])
        if head[:1] == b'\x80':
            raise _Refused('a legacy (pre-1.6) torch.save file, which this reader does not read: its storages are '
                           'declared before they are written, so a file can hand out uninitialised memory. '
                           'Re-save it with a current torch: torch.save(torch.load(path, weights_only=True), '
                           'new_path)')
        if head != b'PK\x03\x04':
            raise _Refused(f'not a PyTorch checkpoint: it starts with bytes {head!r}, not a zip archive '
                           '(torch.save)')
        archive = _Archive(view)
        storages: Dict[str, _Storage] = {}

        def make_storage(key: str, dtype: torch.dtype, numel: int, location: str) -> _Storage:
            member = archive.storages.get(key)
            if member is None:
                raise _Refused(f'the pickle names storage {printable(key)}, which the archive does not hold')
            itemsize = torch.empty(0, dtype=dtype).element_size()
            if key in storages:
                known = storages[key]
                if (known.dtype, known.numel) != (dtype, numel):
                    raise _Refused(f'storage {key} named with two dtypes or sizes')
                return known
            if numel * itemsize != member.size:
                raise _Refused(f'storage {key} holds {member.size} bytes, but is named as {numel} elements of '
                               f'{dtype}')
            raw = torch.frombuffer(view, dtype=torch.uint8, count=member.size, offset=member.start) \
                if member.size else torch.empty(0, dtype=torch.uint8)
            if raw.data_ptr() % itemsize:  # a record not aligned by the writer: copy it to an aligned one
                raw = raw.clone()
            storages[key] = _Storage(_map_storage(raw.untyped_storage(), location, map_location), dtype, numel)
            return storages[key]

        checkpoint = _Unpickler(archive.pickle, make_storage).load()
        unused = sorted(set(archive.storages) - set(storages), key=int)
        if unused:
            raise _Refused(f'storage records no tensor uses: {", ".join(unused[:8])}')
    except _Refused as refused:
        raise CheckpointFileError(source, _describe(refused)) from None
    except CheckpointFileError:
        raise
    except Exception as error:  # noqa: B902 (whatever else a file provokes is reported the same way)
        raise CheckpointFileError(source, f'refused: {type(error).__name__}: {printable(str(error))}') from None
    if not isinstance(checkpoint, dict):
        raise CheckpointFileError(
            source, f'holds a {type(checkpoint).__name__}, but a checkpoint is a dict (a state dict, or one with '
            "'state_dict', 'model' or 'model_state')")
    return checkpoint


def _describe(refused: _Refused) -> str:
    cause = str(refused)
    if cause.startswith(('the file is empty', 'truncated', 'not a PyTorch checkpoint', 'a legacy')):
        return cause
    return f'refused by the checkpoint reader: {cause}'


def read_file_once(filename: PathLike, max_bytes: Optional[int] = None) -> bytearray:
    """The bytes of a regular file, read through one open descriptor after its size was checked against
    ``max_bytes`` (default :func:`max_checkpoint_bytes`).

    Raises:
        FileNotFoundError: No such file.
        CheckpointFileError: Not a regular file, too large, or changed in size while being read.
    """
    limit = max_checkpoint_bytes() if max_bytes is None else max_bytes
    try:
        descriptor = os.open(filename, os.O_RDONLY | getattr(os, 'O_CLOEXEC', 0) | getattr(os, 'O_NONBLOCK', 0))
    except FileNotFoundError:
        raise FileNotFoundError(f'{printable(str(filename), limit=None)}: no such checkpoint file') from None
    except (OSError, ValueError, TypeError) as error:  # no permission, a NUL byte in the path, not a path
        raise CheckpointFileError(filename, f'cannot be opened: {printable(str(error))}') from None
    info = os.fstat(descriptor)
    if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
        os.close(descriptor)
        raise CheckpointFileError(filename, 'not a regular file (a device, pipe or directory)'
                                  if not stat.S_ISREG(info.st_mode) else
                                  f'{info.st_size} bytes, more than the {limit} bytes a checkpoint may have here '
                                  '(UNIFORMER_MM_MAX_CHECKPOINT_BYTES raises the limit)')
    with os.fdopen(descriptor, 'rb', buffering=0) as file:
        data = bytearray(info.st_size)
        view = memoryview(data)
        filled = 0
        while filled < len(data):
            count = file.readinto(view[filled:])
            if not count:
                break
            filled += count
        if filled != len(data) or file.read(1):
            raise CheckpointFileError(filename, 'the file changed size while it was being read')
    return data


def load_checkpoint_file(filename: PathLike, map_location: MapLocation = None,
                         max_bytes: Optional[int] = None) -> dict:
    """Reads a local checkpoint file once and parses those bytes with :func:`read_checkpoint`.

    Args:
        filename (str | PathLike): A local file.
        map_location: See :func:`read_checkpoint`.
        max_bytes (int, optional): Refuse larger files before reading; default :func:`max_checkpoint_bytes`.

    Raises:
        FileNotFoundError: The file does not exist.
        CheckpointFileError: Anything else that keeps the file from loading, with the cause.
    """
    return read_checkpoint(read_file_once(filename, max_bytes), filename, map_location)
