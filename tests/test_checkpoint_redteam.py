"""Hostile checkpoint files, written opcode by opcode, loaded the way a user's process would load them.

Each payload is written as a PyTorch zip archive and loaded in a forked child of a clean interpreter that imported
``uniformer_mm`` (:func:`hostile_checkpoints.load_in_children`), through mmengine's loader (what ``Runner.resume``,
``load_from``, ``init_cfg=Pretrained`` and the inferencers call) and plain ``torch.load``; the reports say whether
marker files appeared, whether ``HistoryBuffer``'s class-level statistics table changed and what torch's allow-list
holds afterwards.
"""
import numpy as np
import pytest

from hostile_checkpoints import (FALSE, GETATTR, HISTORY_BUFFER, NONE, array, build, call, checkpoint, dictionary,
                                 dtype, glob, history_buffer, integer, load_in_children, long, raw_bytes, statistic,
                                 text, tup, write_archive)


def set_items(obj: bytes, **items: bytes) -> bytes:
    return obj + b'(' + b''.join(text(k) + v for k, v in items.items()) + b'u'


def shared_lists(depth: int) -> bytes:
    """A list of two references to a list of two references to ...: ``depth`` opcodes, 2 ** depth paths."""
    out = b']q\x00'
    for level in range(1, depth + 1):
        out += b'](h' + bytes([level - 1]) + b'h' + bytes([level - 1]) + b'eq' + bytes([level])
    return out


# The builtins module through getattr(getattr, '__self__'), then eval handed to torch's own allow-listed
# _rebuild_from_type_v2, which calls func(*args): the code-execution chain measured against the old allow-list.
EVAL = call(GETATTR, call(GETATTR, GETATTR, text('__self__')), text('eval'))
OBJECT_ARRAY = array((1, ), dtype('O', tup(integer(3), text('|'), NONE, NONE, NONE, integer(-1), integer(-1),
                                           integer(63))), b'AAAAAAAA')
MARKER_CODE = "open('MARKER', 'w').write('pwned')"
GOOD_BUFFER = dict(max_length=integer(10), _log_history=array((2, ), dtype('f8'), np.array([1., 2.]).tobytes()),
                   _count_history=array((2, ), dtype('i8'), np.array([1, 1]).tobytes()),
                   statistics_methods=dictionary(mean=statistic('mean'), current=statistic('current')))

PAYLOADS = {
    'os_system': call(glob('os', 'system'), text('touch MARKER')),
    'builtins_eval': call(glob('builtins', 'eval'), text(MARKER_CODE)),
    'getattr_eval_via_rebuild_from_type': call(glob('torch._tensor', '_rebuild_from_type_v2'), EVAL,
                                               glob('torch', 'Tensor'), tup(text(MARKER_CODE)), b'}'),
    'getattr_eval_reduce': call(EVAL, text(MARKER_CODE)),
    'getattr_open_via_rebuild_from_type': call(
        glob('torch._tensor', '_rebuild_from_type_v2'),
        call(GETATTR, call(GETATTR, GETATTR, text('__self__')), text('open')), glob('torch', 'Tensor'),
        tup(text('MARKER'), text('w')), b'}'),
    'getattr_on_history_buffer_dunder': call(call(GETATTR, HISTORY_BUFFER, text('__init__')), NONE),
    'history_buffer_plants_statistic': history_buffer(
        **dict(GOOD_BUFFER, statistics_methods=dictionary(
            evil=glob('torch._utils', '_rebuild_tensor_v2')))),
    'history_buffer_renames_statistic': history_buffer(
        **dict(GOOD_BUFFER, statistics_methods=dictionary(mean=statistic('max')))),
    'history_buffer_shadows_current': history_buffer(**dict(GOOD_BUFFER, current=glob('builtins', 'set'))),
    'history_buffer_never_built': HISTORY_BUFFER + b')\x81',
    'history_buffer_class_table_in_state': history_buffer(
        **dict(GOOD_BUFFER, _statistics_methods=dictionary(mean=statistic('max')))),
    'numpy_object_array_forged_pointer': OBJECT_ARRAY,
    'numpy_dtype_crafted_itemsize': array(
        (1, ), dtype('f8', tup(integer(3), text('<'), NONE, NONE, NONE, integer(1 << 19), integer(1),
                               integer(0))), b'AAAAAAAA'),
    'numpy_array_shorter_than_shape': array((1 << 20, ), dtype('f8'), b'AAAAAAAA'),
    'numpy_array_huge_shape': array((1 << 30, 1 << 30), dtype('f8'), b'AAAAAAAA'),
    'numpy_scalar_short_data': call(glob('numpy._core.multiarray', 'scalar'), dtype('f8'), raw_bytes(b'A')),
    # torch's _rebuild_from_type_v2 sets attributes on what it builds: here a scalar's dtype, after the fact.
    'numpy_scalar_retargeted_through_rebuild_from_type': call(
        glob('torch._tensor', '_rebuild_from_type_v2'), glob('numpy._core.multiarray', 'scalar'),
        glob('numpy._core.multiarray', 'scalar'), tup(dtype('f8'), raw_bytes(b'AAAAAAAA')),
        tup(NONE, dictionary(args=tup(dtype('O', byteorder='|'), raw_bytes(b'AAAAAAAA'))))),
    'self_containing_list': b']q\x00h\x00a',
    'deeply_nested_lists': b']' * 100000 + b'a' * 99999,
    # Found by a red-team pass over the first version of the policy:
    'counter_shadows_items': build(set_items(call(glob('collections', 'Counter')), arr=OBJECT_ARRAY),
                                   dictionary(items=glob('builtins', 'set'))),
    'ordered_dict_attribute': build(call(glob('collections', 'OrderedDict')), dictionary(_metadata=OBJECT_ARRAY)),
    'array_inside_a_tuple_key': b'}(' + tup(OBJECT_ARRAY) + integer(1) + b'u',
    'exception_object': call(glob('builtins', 'KeyError'), OBJECT_ARRAY),
    'tensor_attributes_via_rebuild_from_type': call(glob('torch._tensor', '_rebuild_from_type_v2'),
                                                    glob('torch', 'Tensor'), glob('torch', 'Tensor'), tup(),
                                                    dictionary(evil=OBJECT_ARRAY)),
    'parameter_hooks': call(glob('torch._utils', '_rebuild_parameter'), call(glob('torch', 'Tensor')), FALSE,
                            OBJECT_ARRAY),
    'frame_summary_reads_a_file': call(glob('traceback', 'FrameSummary'), text('/dev/zero'), integer(1), text('x')),
    'bytearray_of_a_huge_size': call(glob('torch', 'Size'), call(glob('builtins', 'bytearray'), long(10 ** 9))),
    'device_mesh_starts_a_process_group': call(glob('torch.distributed.device_mesh', 'DeviceMesh'), text('cpu'),
                                               b'](' + integer(0) + b'e'),
    'uninitialised_tensor_memory': call(glob('torch', 'Tensor'), integer(1 << 16)),
    # An error message quoting the 2 ** 40-path list in full would never finish.
    'exponential_repr_in_a_message': tup(shared_lists(40), array((0, ), dtype('f8'), b'', shape_opcodes=b'h\x28')),
    'impossible_zero_size_shape': array((0, 1 << 62, 1 << 62), dtype('f8'), b''),
}
# Harmless to torch's unpickler, but not walkable: refused by ours.
STRUCTURE_ONLY = {'self_containing_list', 'deeply_nested_lists'}
# Accepted by torch's own weights-only policy (that is why the scan exists): only ours refuses them.
TORCH_ACCEPTS = {'frame_summary_reads_a_file', 'uninitialised_tensor_memory', 'bytearray_of_a_huge_size',
                 'device_mesh_starts_a_process_group'}
# Legitimate content in the forms numpy 1 and numpy 2 write, which must load.
ACCEPTED = {
    'numpy1_era_array_and_scalar': dictionary(
        a=array((2, 2), dtype('f4'), np.arange(4, dtype='<f4').tobytes(), module='numpy.core.multiarray'),
        s=call(glob('numpy.core.multiarray', 'scalar'), dtype('f8'), raw_bytes(np.float64(2.5).tobytes()))),
    'numpy2_history_buffer': history_buffer(**GOOD_BUFFER),
}


@pytest.fixture(scope='module')
def reports(tmp_path_factory):
    """Loads every payload in its own forked child of one clean interpreter; returns {name: report}."""
    root = tmp_path_factory.mktemp('redteam')
    paths = {}
    for name, payload in {**PAYLOADS, **ACCEPTED}.items():
        (root / name).mkdir()
        paths[name] = write_archive(root / name / 'ckpt.pth', checkpoint(payload))
        if name in TORCH_ACCEPTS:  # plain torch.load would read /dev/zero, allocate a GB, or open a process group
            (root / name / 'SKIP_TORCH').touch()
    (root / 'legacy_getattr_eval').mkdir()
    paths['legacy_getattr_eval'] = root / 'legacy_getattr_eval' / 'ckpt.pth'
    paths['legacy_getattr_eval'].write_bytes(checkpoint(PAYLOADS['getattr_eval_via_rebuild_from_type']))
    loaded = load_in_children(paths.values())
    reports = {}
    for name, path in paths.items():
        assert loaded[path]['status'] == 0, f'{name}: the loading process died (wait status {loaded[path]["status"]})'
        reports[name] = dict(loaded[path], dir=path.parent)
    return reports


@pytest.mark.parametrize('name', [*PAYLOADS, 'legacy_getattr_eval'])
def test_hostile_file_is_refused_and_harmless(reports, name):
    report = reports[name]
    assert report['mmengine'].startswith('CheckpointFileError: '), report['mmengine']
    assert 'ckpt.pth' in report['mmengine']
    if name not in STRUCTURE_ONLY | TORCH_ACCEPTS:  # torch's own policy, untouched by uniformer_mm, refuses it too
        assert report['torch'] != 'loaded'
    assert report['process_group'] is False
    assert not report['marker'] and not (report['dir'] / 'MARKER').exists()
    assert report['table_unchanged'] and report['allow_list_unchanged']


@pytest.mark.parametrize('name, cause', [
    ('os_system', 'the global os.system, which a checkpoint has no use for'),
    ('builtins_eval', 'the global builtins.eval'),
    ('getattr_eval_via_rebuild_from_type', 'the global torch._tensor._rebuild_from_type_v2'),
    ('getattr_eval_reduce', "getattr is read only as getattr(HistoryBuffer, <statistic name>), "
                            "got getattr(builtins.getattr, '__self__')"),
    ('getattr_on_history_buffer_dunder', 'a call of a _Statistic'),
    ('history_buffer_plants_statistic', "statistic 'evil' must be getattr(HistoryBuffer, 'evil')"),
    ('history_buffer_renames_statistic', "statistic 'mean' must be getattr(HistoryBuffer, 'mean')"),
    ('history_buffer_shadows_current', 'HistoryBuffer state must have keys'),
    ('history_buffer_never_built', 'an unbuilt HistoryBuffer used before its state was given'),
    ('history_buffer_class_table_in_state', 'HistoryBuffer state must have keys'),
    ('numpy_object_array_forged_pointer', "numpy dtype 'O' is not a plain numeric dtype"),
    ('numpy_dtype_crafted_itemsize', 'carries a state numpy never writes'),
    ('numpy_array_shorter_than_shape', 'needs 8388608 bytes, the file gives 8'),
    ('numpy_array_huge_shape', 'needs 9223372036854775808 bytes, the file gives 8'),
    ('numpy_scalar_short_data', 'scalar needs 8 bytes of data, the file gives 1'),
    ('numpy_scalar_retargeted_through_rebuild_from_type', 'the global torch._tensor._rebuild_from_type_v2'),
    ('self_containing_list', 'a container that contains itself'),
    ('deeply_nested_lists', 'containers nested more than 64 deep'),
    ('counter_shadows_items', 'Counter takes one dict of integer counts'),
    ('ordered_dict_attribute', "numpy dtype 'O' is not a plain numeric dtype"),
    ('array_inside_a_tuple_key', "numpy dtype 'O' is not a plain numeric dtype"),
    ('exception_object', 'the global builtins.KeyError'),
    ('tensor_attributes_via_rebuild_from_type', 'the global torch._tensor._rebuild_from_type_v2'),
    ('parameter_hooks', 'the global torch._utils._rebuild_parameter'),
    ('frame_summary_reads_a_file', 'the global traceback.FrameSummary'),
    ('bytearray_of_a_huge_size', 'the global builtins.bytearray'),
    ('device_mesh_starts_a_process_group', 'the global torch.distributed.device_mesh.DeviceMesh'),
    ('uninitialised_tensor_memory', 'the global torch.Tensor'),
    ('exponential_repr_in_a_message', 'shared containers are counted at every place they appear'),
    ('impossible_zero_size_shape', 'an array dimension must be an int in [0, 4611686018427387904)'),
    ('legacy_getattr_eval', 'a legacy (pre-1.6) torch.save file, which this reader does not read'),
])
def test_refusal_names_the_cause(reports, name, cause):
    assert cause in reports[name]['mmengine']


@pytest.mark.parametrize('name', ACCEPTED)
def test_legitimate_numpy_and_history_buffer_content_loads(reports, name):
    report = reports[name]
    assert report['mmengine'] == 'loaded', report['mmengine']
    assert report['table_unchanged'] and report['allow_list_unchanged']


def test_accepted_content_is_rebuilt_exactly(tmp_path):
    from mmengine.logging import HistoryBuffer

    from uniformer_mm.checkpoint_safety import load_checkpoint_file
    loaded = load_checkpoint_file(write_archive(tmp_path / 'ok.pth', checkpoint(dictionary(
        buffer=history_buffer(**GOOD_BUFFER), **{'numpy1': ACCEPTED['numpy1_era_array_and_scalar']}))))
    buffer = loaded['message_hub']['buffer']
    assert type(buffer) is HistoryBuffer and 'statistics_methods' not in vars(buffer)
    assert buffer.mean() == 1.5 and buffer.current() == 2.0 and buffer.max_length == 10
    array_, scalar = loaded['message_hub']['numpy1']['a'], loaded['message_hub']['numpy1']['s']
    assert array_.dtype == np.float32 and np.array_equal(array_, np.arange(4, dtype=np.float32).reshape(2, 2))
    assert array_.flags.owndata and array_.flags.writeable
    assert type(scalar) is np.float64 and scalar == 2.5
