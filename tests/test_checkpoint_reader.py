"""The checkpoint reader against the attacks of a red-team pass on the old scan-then-torch.load policy (issue 18),
each written as raw zip records or pickle opcodes and loaded in a child process under an address-space limit and a
time limit; then what a legitimate file needs: exact tensors, shared storages, views, map_location."""
import os
import subprocess
import sys
import threading
import time
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
import torch
from mmengine.runner.checkpoint import _load_checkpoint

import uniformer_mm  # noqa: F401  (routes mmengine's loaders through the reader)
from uniformer_mm import CheckpointFileError
from uniformer_mm.checkpoint_safety import MAX_NESTING, load_checkpoint_file, read_checkpoint

from hostile_checkpoints import (FALSE, HISTORY_BUFFER, NONE, ORDERED_DICT, TRUE, archive_bytes, array, build, call,
                                 checkpoint, dictionary, dtype, get, glob, integer, load_in_children, long, put,
                                 storage, tensor, text, torch_bytes, tup, write_archive, zip_archive)

MARKER_CODE = "open('MARKER', 'w').write('pwned')"
EVIL_PICKLE = b'\x80\x02' + call(glob('builtins', 'eval'), text(MARKER_CODE)) + b'.'
FLOAT4 = np.arange(4, dtype='<f4').tobytes()


def _state(payload: bytes) -> bytes:
    """A pickle of ``{'state_dict': {'w': payload}}``."""
    return b'\x80\x02' + dictionary(state_dict=dictionary(w=payload)) + b'.'


def _good() -> bytes:
    return torch_bytes(dict(state_dict=OrderedDict(w=torch.arange(4.))))


def _with_central_directory_edit(data: bytes, edit) -> bytes:
    """``data`` (a zip) with ``edit(bytearray, offset of each central directory entry)`` applied."""
    data = bytearray(data)
    offsets, position = [], data.find(b'PK\x01\x02')
    while position >= 0:
        offsets.append(position)
        position = data.find(b'PK\x01\x02', position + 4)
    edit(data, offsets)
    return bytes(data)


def _point_second_entry_at_first(data: bytearray, offsets) -> None:
    data[offsets[1] + 42:offsets[1] + 46] = data[offsets[0] + 42:offsets[0] + 46]


def _claim_huge_size(data: bytearray, offsets) -> None:
    data[offsets[0] + 20:offsets[0] + 28] = (2 ** 31).to_bytes(4, 'little') * 2


BUFFER_STATE = dictionary(max_length=integer(10), _log_history=array((1, ), dtype('f8'), bytes(8)),
                          _count_history=array((1, ), dtype('i8'), bytes(8)))
HOSTILE = {
    # 2 (a): a member torch's reader finds case-insensitively, the old scan not at all.
    'pickle_named_data_PKL': (zip_archive({'archive/data.PKL': EVIL_PICKLE, 'archive/version': b'3\n'}),
                              'exactly one <root>/data.pkl'),
    'names_colliding_by_case': (zip_archive({'archive/data.pkl': _state(NONE), 'archive/data.PKL': EVIL_PICKLE}),
                                'the archive names archive/data.PKL twice (case-insensitively)'),
    # 2 (b): the end record 66 KB before the end, where Python's zipfile no longer looks and torch does.
    'end_record_66kb_before_the_end': (_good() + b'\0' * 67_000, 'does not end with a zip end record'),
    # 2 (c): a legacy pickle with a tiny zip appended.
    'legacy_pickle_with_a_zip_appended': (torch_bytes(dict(state_dict={}), _use_new_zipfile_serialization=False)
                                          + _good(), 'a legacy (pre-1.6) torch.save file'),
    # 3: a storage declared bigger than its record (legacy files hand out heap memory this way).
    'storage_larger_than_its_record': (archive_bytes(_state(tensor(storage('0', 1 << 20), (1 << 20, ), (1, ))),
                                                     {'0': FLOAT4}),
                                       'storage 0 holds 16 bytes, but is named as 1048576 elements'),
    'storage_record_missing': (archive_bytes(_state(tensor(storage('7', 4), (4, ), (1, )))),
                               'names storage 7, which the archive does not hold'),
    # 4: a million-deep tuple used as a dict key (SIGSEGV in tuplehash under torch.load).
    'million_deep_tuple_key': (archive_bytes(b'\x80\x02}' + NONE + b'\x85' * 1_000_000 + NONE + b's.'),
                               f'containers nested more than {MAX_NESTING} deep'),
    # 5: codecs: a gigabyte from nested hex encodes, hours of punycode, an unknown codec (LookupError).
    'nested_hex_encode': (archive_bytes(_state(
        call(glob('_codecs', 'encode'), call(glob('_codecs', 'encode'), text('AB'), text('hex')), text('hex')))),
        'encode is read only as encode(str, "latin1")'),
    'punycode': (archive_bytes(_state(call(glob('_codecs', 'encode'), text('\u00e9' * 1000), text('punycode')))),
                 'encode is read only as encode(str, "latin1")'),
    'unknown_codec': (archive_bytes(_state(call(glob('_codecs', 'encode'), text('x'), text('no-such-codec')))),
                      'encode is read only as encode(str, "latin1")'),
    'one_string_encoded_100k_times': (archive_bytes(
        b'\x80\x02}' + text('x') + b']' + b'(' + text('A' * 10_000) + put(0) + b''.join(
            glob('_codecs', 'encode') + get(0) + text('latin1') + b'\x86R' for _ in range(100_000)) + b'es.'),
        'more bytes copied out of the pickle than it holds'),
    # 6: a bzip2 member (a 1,069-byte file held a gigabyte); nothing is decompressed.
    'bzip2_member': (zip_archive({'archive/data.pkl': b'\x80\x02N.' + b'\0' * (32 << 20)}, zipfile.ZIP_BZIP2),
                     'is compressed (method 12)'),
    # 7: stride 0 over a whole terabyte-sized tensor, overlapping elements, a view past its storage.
    'stride_0_tensor': (archive_bytes(_state(tensor(storage('0', 1), (2 ** 40, ), (0, ))), {'0': FLOAT4[:4]}),
                        'with stride 0'),
    'overlapping_strides': (archive_bytes(_state(tensor(storage('0', 4), (4, 4), (1, 1))), {'0': FLOAT4}),
                            'make elements overlap'),
    'view_past_its_storage': (archive_bytes(_state(tensor(storage('0', 4), (4, ), (1, ), 1)), {'0': FLOAT4}),
                              'reaching past its storage of 4 elements'),
    # 11: a sparse tensor (its validation queue stayed filled after a failed load and refused the next load).
    'sparse_tensor': (archive_bytes(_state(call(glob('torch._utils', '_rebuild_sparse_tensor'), NONE, tup()))),
                      'the global torch._utils._rebuild_sparse_tensor'),
    # 12: a neg-bit tensor and backward hooks that are not a dict.
    'tensor_metadata_neg_bit': (archive_bytes(_state(tensor(storage('0', 4), (4, ), (1, ), 0, ORDERED_DICT,
                                                            dictionary(neg=TRUE))), {'0': FLOAT4}),
                                'a tensor with extra metadata'),
    'backward_hooks_0': (archive_bytes(_state(tensor(storage('0', 4), (4, ), (1, ), 0, integer(0))), {'0': FLOAT4}),
                         'a tensor with backward hooks'),
    # Found attacking the new reader.
    'two_members_sharing_one_record': (_with_central_directory_edit(_good(), _point_second_entry_at_first),
                                       'does not start where the previous record ends'),
    'central_directory_claims_2gb': (_with_central_directory_edit(_good(), _claim_huge_size),
                                     'member archive/data.pkl runs past the central directory'),
    'member_name_with_terminal_escape': (zip_archive({'archive/data.pkl': _state(NONE),
                                                      'archive/\x1b[2J\x1b[31mOK': b''}),
                                         'a member name with control characters: archive/\\x1b[2J\\x1b[31mOK'),
    'unreferenced_storage_record': (archive_bytes(_state(NONE), {'0': FLOAT4}), 'storage records no tensor uses'),
    'one_storage_two_dtypes': (archive_bytes(_state(tup(tensor(storage('0', 4), (4, ), (1, )),
                                                        tensor(storage('0', 2, 'LongStorage'), (2, ), (1, )))),
                                             {'0': FLOAT4}),
                               'storage 0 named with two dtypes or sizes'),
    'statistic_outside_a_history_buffer': (archive_bytes(_state(call(
        glob('__builtin__', 'getattr'), glob('mmengine.logging.history_buffer', 'HistoryBuffer'), text('mean')))),
        'the checkpoint holding globals, storages or statistics outside the place they belong'),
    'dtype_used_before_its_state': (archive_bytes(_state(call(glob('numpy', 'dtype'), text('f8'), FALSE, TRUE))),
                                    'an unbuilt numpy dtype used before its state was given'),
    'string_longer_than_the_file': (archive_bytes(b'\x80\x02X\xff\xff\xff\xff' + b'A' * 100),
                                    'truncated: the pickle ends in the middle of an opcode'),
    'two_million_empty_dicts': (archive_bytes(b'\x80\x02(' + b'}' * 2_000_000 + b'l.'),
                                'more than 350000 containers in a pickle of 2000005 bytes'),
    'wide_integer_size': (archive_bytes(_state(tensor(storage('0', 4), (2 ** 2000 - 1, ), (1, ))), {'0': FLOAT4}),
                          'a tensor size must be an int'),
    # Found by a red-team pass on the new reader: reconstructors that copied or walked one shared container for
    # each use (a set of 19,000 ints made 1,000 times: 500 MiB from 100 kB), tuple keys whose hash was inverted so
    # that all collide (40,000 keys: 16 s, quadratic), MARKs never closed (75 bytes each).
    'set_from_one_list_twice': (archive_bytes(_state(tup(
        call(glob('builtins', 'set'), b'](' + b''.join(integer(i) for i in range(100)) + b'e' + put(0)),
        call(glob('builtins', 'set'), get(0))))), 'a set built from a container that was used for another object'),
    'counter_from_one_dict_twice': (archive_bytes(_state(tup(
        call(glob('collections', 'Counter'), dictionary(a=integer(1)) + put(0)),
        call(glob('collections', 'Counter'), get(0))))), 'a Counter built from a container that was used'),
    'size_from_one_tuple_twice': (archive_bytes(_state(tup(
        call(glob('torch', 'Size'), tup(integer(1), integer(2)) + put(0)),
        call(glob('torch', 'Size'), get(0))))), 'a torch.Size built from a container that was used'),
    'one_history_buffer_state_twice': (archive_bytes(_state(tup(
        build(HISTORY_BUFFER + b')\x81', BUFFER_STATE + put(0)), build(HISTORY_BUFFER + b')\x81', get(0))))),
        'a HistoryBuffer built from a container that was used'),
    'one_metadata_dict_for_every_module': (archive_bytes(_state(build(ORDERED_DICT, dictionary(_metadata=(
        b'}(' + text('a') + dictionary(version=integer(1)) + put(0) + text('b') + get(0) + b'u'))))),
        "a state dict's metadata built from a container that was used"),
    'tuple_key': (archive_bytes(_state(b'}' + tup(integer(1), integer(2)) + text('v') + b's')),
                  'a tuple as a dict key or set element'),
    'marks_never_closed': (archive_bytes(b'\x80\x02' + b'(' * 1_000_000), 'more than 256 MARKs open at once'),
    'exponentially_shared_lists': (archive_bytes(b'\x80\x02' + b']q\x00' + b''.join(
        b'](h' + bytes([level - 1]) + b'h' + bytes([level - 1]) + b'eq' + bytes([level]) for level in range(1, 50))
        + b'}' + text('x') + b'h\x31s.'), 'counted at every place they appear'),
}


def _history_buffers_sharing_one_array(count: int) -> bytes:
    """``count`` HistoryBuffers whose histories are one 1 MiB array (the constructor copied it for each: 2 MiB per
    23 bytes of file)."""
    shared = array((1 << 17, ), dtype('f8'), bytes(1 << 20)) + put(0)
    state = dictionary(max_length=integer(10 ** 9), _log_history=get(0), _count_history=get(0))
    buffer = build(HISTORY_BUFFER + b')\x81', state)
    return archive_bytes(b'\x80\x02' + dictionary(state_dict=b'}', buffers=b'](' + shared + buffer * count + b'e')
                         + b'.')


# Shared content that loads, and must cost no more than the file.
BOUNDED = {'one_array_in_300_history_buffers': _history_buffers_sharing_one_array(300)}


@pytest.fixture(scope='module')
def reports(tmp_path_factory):
    root = tmp_path_factory.mktemp('reader')
    paths = {}
    for name, (content, _) in {**HOSTILE, **{name: (content, None) for name, content in BOUNDED.items()}}.items():
        (root / name).mkdir()
        (root / name / 'SKIP_TORCH').touch()  # plain torch.load would crash, hang or allocate on several
        paths[name] = root / name / 'ckpt.pth'
        paths[name].write_bytes(content)
    loaded = load_in_children(paths.values())
    return {name: dict(loaded[path], size=path.stat().st_size, dir=path.parent) for name, path in paths.items()}


@pytest.mark.parametrize('name', HOSTILE)
def test_hostile_file_is_refused_within_bounds(reports, name):
    report = reports[name]
    assert report['status'] == 0, f'the loading process died (wait status {report["status"]})'
    assert report['mmengine'].startswith('CheckpointFileError: '), report['mmengine']
    assert HOSTILE[name][1] in report['mmengine'], report['mmengine']
    assert not report['marker'] and not (report['dir'] / 'MARKER').exists()
    assert report['allow_list_unchanged'] and report['table_unchanged'] and report['sparse_queue_empty']
    assert '\x1b' not in report['mmengine']
    # bounded by the file: its buffer and at most ~32 bytes of Python objects per byte beyond a constant, and
    # linear time
    assert report['rss_growth'] < 40 * report['size'] + (96 << 20), report['rss_growth']
    assert report['seconds'] < 5 + report['size'] / 1e6, report['seconds']


@pytest.mark.parametrize('name', BOUNDED)
def test_shared_content_loads_within_bounds(reports, name):
    report = reports[name]
    assert report['status'] == 0 and report['mmengine'] == 'loaded', report['mmengine']
    assert report['rss_growth'] < 2 * report['size'] + (32 << 20), report['rss_growth']
    assert report['table_unchanged'] and report['seconds'] < 5


def test_loading_history_buffers_leaves_the_class_table_alone(tmp_path):
    """mmengine's HistoryBuffer constructor writes its default statistics into the class-level table; a load in a
    fresh process must not (found by the red-team pass on the new reader)."""
    from mmengine.logging import MessageHub
    hub = MessageHub.get_instance('table_test')
    hub.update_scalar('train/loss', 0.5)
    torch.save(dict(message_hub=hub.state_dict()), tmp_path / 'hub.pth')
    script = ('import sys, uniformer_mm\n'
              'from mmengine.logging import HistoryBuffer\n'
              'from uniformer_mm.checkpoint_safety import load_checkpoint_file\n'
              'buffer = load_checkpoint_file(sys.argv[1])["message_hub"]["log_scalars"]["train/loss"]\n'
              'assert HistoryBuffer._statistics_methods == {}, HistoryBuffer._statistics_methods\n'
              'assert buffer.current() == 0.5 and buffer.mean() == 0.5\n')
    result = subprocess.run([sys.executable, '-c', script, str(tmp_path / 'hub.pth')], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def test_a_file_swapped_during_loads_never_runs_the_other_version(tmp_path):
    """Time of check / time of use: the old policy scanned and loaded the path separately (14 of 30 loads ran the
    swapped-in file). The reader parses the bytes it read once, so each load sees one whole version."""
    good, evil = tmp_path / 'good', tmp_path / 'evil'
    good.write_bytes(_good())
    write_archive(evil, EVIL_PICKLE)
    path, stop = tmp_path / 'ckpt.pth', threading.Event()

    def swap():
        while not stop.is_set():
            for source in (good, evil):
                os.link(source, tmp_path / 'next')
                os.replace(tmp_path / 'next', path)
                time.sleep(0.002)

    path.write_bytes(good.read_bytes())
    swapper = threading.Thread(target=swap)
    swapper.start()
    outcomes = []
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        for _ in range(60):
            try:
                outcomes.append(torch.equal(load_checkpoint_file(path)['state_dict']['w'], torch.arange(4.)))
            except CheckpointFileError as error:
                outcomes.append('eval' in str(error))
    finally:
        stop.set()
        swapper.join()
        os.chdir(cwd)
    assert all(outcomes) and not (tmp_path / 'MARKER').exists()


def test_safe_globals_of_other_threads_neither_leak_nor_get_lost(tmp_path):
    """The old loader cleared and restored torch's process-wide allow-list around each load; a safe_globals block
    in another thread could leave getattr allowed for good. The reader never reads or writes that list."""
    write_archive(tmp_path / 'gadget.pth', checkpoint(call(
        glob('torch._tensor', '_rebuild_from_type_v2'),
        call(glob('__builtin__', 'getattr'), call(glob('__builtin__', 'getattr'), glob('__builtin__', 'getattr'),
                                                  text('__self__')), text('eval')),
        glob('torch', 'Tensor'), tup(text(MARKER_CODE)), b'}')))
    (tmp_path / 'good.pth').write_bytes(_good())
    before = torch.serialization.get_safe_globals()
    stop = threading.Event()

    def allow_getattr_now_and_then():
        while not stop.is_set():
            with torch.serialization.safe_globals([getattr]):
                time.sleep(0.0005)

    thread = threading.Thread(target=allow_getattr_now_and_then)
    thread.start()
    try:
        for _ in range(100):
            load_checkpoint_file(tmp_path / 'good.pth')
        torch.serialization.add_safe_globals([np.dtype])  # added while loads may run: must be kept
    finally:
        stop.set()
        thread.join()
    try:
        assert sorted(map(str, torch.serialization.get_safe_globals())) == sorted(map(str, before + [np.dtype]))
        cwd = os.getcwd()
        os.chdir(tmp_path)
        try:
            with pytest.raises(Exception):
                torch.load(tmp_path / 'gadget.pth')  # torch's own policy, as it was
        finally:
            os.chdir(cwd)
        assert not (tmp_path / 'MARKER').exists()
    finally:
        torch.serialization.clear_safe_globals()
        torch.serialization.add_safe_globals(before)


def test_tensors_are_exact_views_with_storages_shared_as_saved(tmp_path):
    base = torch.randn(6, 5)
    saved = OrderedDict(weight=base, transposed=base.t(), row=base[2], strided=base[::2, 1:4], half=base.half(),
                        bf16=base.bfloat16(), long=torch.arange(7), flags=base > 0, empty=torch.zeros(0, 3),
                        scalar=torch.tensor(3.5), complex=torch.randn(3, dtype=torch.complex64))
    saved._metadata = OrderedDict({'': dict(version=2)})
    torch.save(dict(state_dict=saved, tied=base), tmp_path / 'views.pth')
    loaded = load_checkpoint_file(tmp_path / 'views.pth')
    expected = torch.load(tmp_path / 'views.pth', weights_only=True)
    for key, value in expected['state_dict'].items():
        got = loaded['state_dict'][key]
        assert got.dtype == value.dtype and got.shape == value.shape and got.stride() == value.stride()
        assert torch.equal(got, value), key
    assert loaded['state_dict']._metadata == {'': dict(version=2)}
    # one storage for the weight and its views, as torch.load gives
    assert loaded['tied'].untyped_storage().data_ptr() == loaded['state_dict']['row'].untyped_storage().data_ptr()
    loaded['tied'][0, 0] = 100.  # writable, and the views see it
    assert loaded['state_dict']['weight'][0, 0] == 100.


@pytest.mark.parametrize('map_location', [None, 'cpu', torch.device('cpu'), {'cuda:0': 'cpu'},
                                          lambda storage, location: storage])
def test_map_location(tmp_path, map_location):
    (tmp_path / 'w.pth').write_bytes(_good())
    assert torch.equal(load_checkpoint_file(tmp_path / 'w.pth', map_location)['state_dict']['w'], torch.arange(4.))


@pytest.mark.parametrize('map_location', ['meta', lambda storage, location: torch.empty(
    0, dtype=torch.uint8).set_(storage).to('meta').untyped_storage()])
def test_map_location_to_another_device(map_location):
    weight = read_checkpoint(bytearray(_good()), map_location=map_location)['state_dict']['w']
    assert weight.device.type == 'meta' and weight.shape == (4, )


def test_read_only_bytes_give_writable_tensors():
    weight = read_checkpoint(_good())['state_dict']['w']
    weight[0] = 7.
    assert weight.tolist() == [7., 1., 2., 3.]


def test_saved_location_is_never_acted_on(tmp_path):
    """A file saying its tensors live on cuda:0 loads on the CPU (torch.load would need that device)."""
    write_archive(tmp_path / 'cuda.pth', _state(tensor(storage('0', 4, location='cuda:0'), (4, ), (1, ))),
                  {'0': FLOAT4})
    assert torch.equal(load_checkpoint_file(tmp_path / 'cuda.pth')['state_dict']['w'], torch.arange(4.))


def test_a_file_over_the_size_limit_is_refused_before_reading(tmp_path, monkeypatch):
    (tmp_path / 'w.pth').write_bytes(_good())
    monkeypatch.setenv('UNIFORMER_MM_MAX_CHECKPOINT_BYTES', '1000')
    with pytest.raises(CheckpointFileError, match=r'w\.pth: \d+ bytes, more than the 1000 bytes a checkpoint may '
                                                  'have here'):
        _load_checkpoint(str(tmp_path / 'w.pth'))


@pytest.mark.parametrize('path, cause', [('/dev/zero', 'not a regular file'), ('.', 'not a regular file')])
def test_devices_and_directories_are_not_read(path, cause):
    with pytest.raises(CheckpointFileError, match=cause):
        load_checkpoint_file(path)


def test_fifo_does_not_hang(tmp_path):
    os.mkfifo(tmp_path / 'pipe.pth')
    with pytest.raises(CheckpointFileError, match='not a regular file'):
        load_checkpoint_file(tmp_path / 'pipe.pth')


def test_big_endian_storages_are_refused():
    data = bytearray(_good()).replace(b'little', b'bigxxx')
    with pytest.raises(CheckpointFileError):
        read_checkpoint(data)


def test_python_zipfile_archives_without_alignment_load():
    """Archives written by other zip writers (no data descriptors, records not aligned): read, copying what is
    misaligned."""
    content = archive_bytes(_state(tensor(storage('0', 2, 'DoubleStorage'), (2, ), (1, ))),
                            {'0': np.arange(2.).tobytes()}, root='odd_name')
    assert torch.equal(read_checkpoint(bytearray(content))['state_dict']['w'], torch.arange(2.).double())


def test_large_integers_and_scalar_keys_are_plain_values():
    content = archive_bytes(b'\x80\x02' + dictionary(big=long(2 ** 100), keys=b'}(' + integer(-5) + text('i') + text(
        'a') + text('s') + NONE + text('n') + b'u', none=NONE) + b'.')
    loaded = read_checkpoint(bytearray(content))
    assert loaded == dict(big=2 ** 100, keys={-5: 'i', 'a': 's', None: 'n'}, none=None)
