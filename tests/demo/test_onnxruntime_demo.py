"""demo/onnxruntime_demo.py: an exported segmenter and video recognizer, run in ONNX Runtime with the example's
NumPy/OpenCV pre- and post-processing, predict what the codebases' inferencers predict from the same weights (slow:
a real export each); and every input the example takes, made hostile, stops it with a message that names the
problem, not a traceback or a class read from garbage (fast: models of one or two ONNX nodes)."""
import os
import subprocess
from typing import Tuple

import cv2
import numpy as np
import onnx
import pytest
import torch
from mmengine.config import Config
from onnx import TensorProto, helper

from uniformer_mm.apis import build_model_from_config

from helpers import PYTHON, ROOT, load_script, randomize_, run, sharpen_attention_

SEG = 'configs/mmseg/toy/fpn_uniformer-xxs_toy-shapes-160x160.py'
VIDEO = 'configs/mmaction/toy/uniformer3d-xxs_toy-motion-rgb.py'
DEMO = ROOT / 'demo/onnxruntime_demo.py'


def export(tmp_path, config, shape):
    model = build_model_from_config(Config.fromfile(str(ROOT / config)))
    randomize_(model)  # distinct logits: an argmax over near-ties would compare rounding, not processing
    sharpen_attention_(model)  # and the light models' token scores far from ties (docs/deployment.md)
    checkpoint, onnx_file = tmp_path / 'model.pth', tmp_path / 'model.onnx'
    torch.save({'state_dict': model.state_dict()}, checkpoint)
    run([PYTHON, ROOT / 'tools/deployment/pytorch2onnx.py', config, checkpoint, '--part', 'model', '--shape',
         *map(str, shape), '--output-file', onnx_file], ROOT)
    return checkpoint, onnx_file


@pytest.mark.slow  # an export and an inferencer
@pytest.mark.long
def test_segmentation_matches_the_inferencer(tmp_path):
    from mmseg.apis import MMSegInferencer
    checkpoint, onnx_file = export(tmp_path, SEG, (1, 3, 160, 160))
    image = cv2.GaussianBlur(np.random.default_rng(0).integers(0, 255, (150, 230, 3), np.uint8), (9, 9), 3)
    cv2.imwrite(str(tmp_path / 'photo.png'), image)
    run([PYTHON, DEMO, 'seg', SEG, onnx_file, tmp_path / 'photo.png', '--out-file',
         tmp_path / 'classes.png'], ROOT)
    classes = cv2.imread(str(tmp_path / 'classes.png'), cv2.IMREAD_UNCHANGED)
    inferencer = MMSegInferencer(model=str(ROOT / SEG), weights=str(checkpoint), device='cpu')
    expected = inferencer(str(tmp_path / 'photo.png'), return_datasamples=True).pred_sem_seg.data[0].numpy()
    assert classes.shape == expected.shape == (150, 230)
    assert len(np.unique(expected)) > 1
    assert (classes == expected).mean() > 0.999


@pytest.mark.slow  # an export and an inferencer
@pytest.mark.long
def test_video_matches_the_inferencer(tmp_path):
    from mmaction.apis import MMAction2Inferencer
    checkpoint, onnx_file = export(tmp_path, VIDEO, (1, 3, 16, 64, 64))
    frame = cv2.GaussianBlur(np.random.default_rng(0).integers(0, 255, (72, 96, 3), np.uint8), (9, 9), 3)
    writer = cv2.VideoWriter(str(tmp_path / 'clip.avi'), cv2.VideoWriter_fourcc(*'MJPG'), 8, (96, 72))
    for index in range(20):
        writer.write(np.roll(frame, 3 * index, axis=1))
    writer.release()
    (tmp_path / 'labels.txt').write_text('left_to_right\nright_to_left\n')
    output = run([PYTHON, DEMO, 'video', VIDEO, onnx_file, tmp_path / 'clip.avi',
                  '--label-file', tmp_path / 'labels.txt'], ROOT)
    names = ['left_to_right', 'right_to_left']
    scores = dict(line.split(': ') for line in output.splitlines() if line.split(': ')[0] in names)
    inferencer = MMAction2Inferencer(rec=str(ROOT / VIDEO), rec_weights=str(checkpoint), device='cpu')
    expected = inferencer(str(tmp_path / 'clip.avi'))['predictions'][0]['rec_scores'][0]
    assert list(scores) == [names[i] for i in np.argsort(expected)[::-1]]
    for index, name in enumerate(names):
        assert abs(float(scores[name]) - expected[index]) < 1e-2, (scores, expected)


# ---- hostile inputs ------------------------------------------------------------------------------------------------
def load_demo():
    return load_script(DEMO)


demo = load_demo()
# A tiny segmenter (logits: the image's channels pooled to a quarter, so 3 classes) and a tiny video recognizer
# (logits: the clip's channel means), each a node or two, with configs of the shapes the example serves.
SEG_CONFIG = """
model = dict(data_preprocessor=dict(mean=[128, 128, 128], std=[64, 64, 64], bgr_to_rgb=True))
test_dataloader = dict(dataset=dict(pipeline=[
    dict(type='LoadImageFromFile'), dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(type='PackSegInputs')]))
"""
VIDEO_CONFIG = """
model = dict(data_preprocessor=dict(mean=[128, 128, 128], std=[64, 64, 64], format_shape='NCTHW'),
             cls_head=dict(average_clips='prob'))
test_dataloader = dict(dataset=dict(pipeline=[
    dict(type='OpenCVInit'),
    dict(type='SampleFrames', clip_len=4, frame_interval=2, num_clips=1, test_mode=True),
    dict(type='OpenCVDecode'), dict(type='Resize', scale=(-1, 16)), dict(type='CenterCrop', crop_size=16),
    dict(type='FormatShape', input_format='NCTHW'), dict(type='PackActionInputs')]))
"""
SEG_SHAPE, VIDEO_SHAPE = [1, 3, 32, 32], [1, 3, 4, 16, 16]
SEG_POOL = helper.make_node('AveragePool', ['input'], ['pooled'], kernel_shape=[4, 4], strides=[4, 4])
VIDEO_MEAN = helper.make_node('ReduceMean', ['input'], ['pooled'], axes=[2, 3, 4], keepdims=0)
NAN = helper.make_tensor('nan', TensorProto.FLOAT, [], [float('nan')])


def save_model(path, nodes, input_shape, output_shape, initializers=(), input_type=TensorProto.FLOAT):
    """A one-input, one-output ONNX model (opset 13) of ``nodes``, from ``input`` to ``pooled``."""
    graph = helper.make_graph(nodes, path.stem, [helper.make_tensor_value_info('input', input_type, input_shape)],
                              [helper.make_tensor_value_info('pooled', TensorProto.FLOAT, output_shape)],
                              initializer=list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)])
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def write_video(path, num_frames, size=(24, 20)):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'), 8, size)
    for index in range(num_frames):
        writer.write(np.full((size[1], size[0], 3), (10 * index, 80, 200 - 10 * index), np.uint8))
    writer.release()
    return path


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    """The tiny models, their configs, an image, clips and label files, hostile ones among them."""
    root = tmp_path_factory.mktemp('onnxruntime_demo')
    save_model(root / 'seg.onnx', [SEG_POOL], SEG_SHAPE, [1, 3, 8, 8])
    save_model(root / 'video.onnx', [VIDEO_MEAN], VIDEO_SHAPE, [1, 3])
    save_model(root / 'seg_nan.onnx', [helper.make_node('AveragePool', ['input'], ['mean'], kernel_shape=[4, 4],
                                                        strides=[4, 4]),
                                       helper.make_node('Add', ['mean', 'nan'], ['pooled'])],
               SEG_SHAPE, [1, 3, 8, 8], [NAN])
    save_model(root / 'video_nan.onnx', [helper.make_node('ReduceMean', ['input'], ['mean'], axes=[2, 3, 4],
                                                          keepdims=0),
                                         helper.make_node('Add', ['mean', 'nan'], ['pooled'])],
               VIDEO_SHAPE, [1, 3], [NAN])
    save_model(root / 'seg_flat.onnx', [helper.make_node('ReduceMean', ['input'], ['pooled'], axes=[2, 3],
                                                         keepdims=0)], SEG_SHAPE, [1, 3])
    save_model(root / 'seg_double.onnx', [helper.make_node('Cast', ['input'], ['cast'], to=TensorProto.FLOAT),
                                          helper.make_node('AveragePool', ['cast'], ['pooled'], kernel_shape=[4, 4],
                                                           strides=[4, 4])],
               SEG_SHAPE, [1, 3, 8, 8], input_type=TensorProto.DOUBLE)
    configs = {'seg': SEG_CONFIG, 'video': VIDEO_CONFIG,
               'no_test_dataloader': SEG_CONFIG.split('test_dataloader')[0],
               'no_sampler': VIDEO_CONFIG.replace(
                   "dict(type='SampleFrames', clip_len=4, frame_interval=2, num_clips=1, test_mode=True),", ''),
               'no_clip_len': VIDEO_CONFIG.replace('clip_len=4, ', ''),
               'no_mean': SEG_CONFIG.replace('mean=[128, 128, 128], ', ''),
               'resize_by_factor': SEG_CONFIG.replace('scale=(32, 32), keep_ratio=False', 'scale_factor=0.5'),
               'no_crop_size': VIDEO_CONFIG.replace('crop_size=16', ''),
               'no_cls_head': VIDEO_CONFIG.replace(",\n             cls_head=dict(average_clips='prob')", ''),
               'steps_without_type': SEG_CONFIG.replace("dict(type='PackSegInputs')", "'PackSegInputs'")}
    for name, text in configs.items():
        (root / f'{name}.py').write_text(text)
    image = np.zeros((40, 48, 3), np.uint8)
    image[:, :24] = (0, 0, 255)  # red on the left, blue on the right (BGR)
    image[:, 24:] = (255, 0, 0)
    cv2.imwrite(str(root / 'photo.png'), image)
    (root / 'not_an_image.png').write_text('plain text')
    write_video(root / 'clip.avi', 12)
    write_video(root / 'two_frames.avi', 2)  # shorter than a clip (4 frames, interval 2): looped, as mmaction2 does
    write_video(root / 'no_frames.avi', 0)
    (root / 'labels.txt').write_text('red\ngreen\nblue\n')
    (root / 'labels_bom_crlf_trailing_blank.txt').write_bytes(b'\xef\xbb\xbfred\r\ngreen\r\nblue\r\n\r\n')
    (root / 'labels_latin1.txt').write_bytes('rouge\nvert\nbleu\xe9\n'.encode('latin-1'))
    (root / 'labels_blank_line.txt').write_text('red\n\nblue\n')  # green forgotten: blue would name class 2
    (root / 'labels_two.txt').write_text('red\ngreen\n')
    return root


def run_demo(*argv) -> None:
    demo.main([str(arg) for arg in argv])  # paths and numbers as the shell would give them


def exit_message(*argv) -> str:
    """The message the example stops with, run on ``argv``."""
    with pytest.raises(SystemExit) as stopped:
        run_demo(*argv)
    assert isinstance(stopped.value.code, str), f'exited {stopped.value.code!r} without a message'
    return stopped.value.code


def test_tiny_models_run_end_to_end(files, capsys):
    run_demo('seg', files / 'seg.py', files / 'seg.onnx', files / 'photo.png', '--out-file', files / 'map.png')
    classes = cv2.imread(str(files / 'map.png'), cv2.IMREAD_UNCHANGED)
    assert classes.shape == (40, 48) and (classes[:, :20] == 0).all() and (classes[:, 28:] == 2).all()
    capsys.readouterr()
    for clip, labels in [('clip.avi', 'labels.txt'), ('two_frames.avi', 'labels_bom_crlf_trailing_blank.txt')]:
        run_demo('video', files / 'video.py', files / 'video.onnx', files / clip, '--label-file', files / labels)
        names = [line.split(': ')[0] for line in capsys.readouterr().out.splitlines()]
        assert names[0] == 'red' and sorted(names) == ['blue', 'green', 'red']  # the sampled frames are reddest


HOSTILE_INPUTS = {
    # name: (task, config, model, input, extra arguments, what the message says)
    'image_missing': ('seg', 'seg.py', 'seg.onnx', 'missing.png', [], 'cannot read an image from'),
    'image_not_an_image': ('seg', 'seg.py', 'seg.onnx', 'not_an_image.png', [], 'cannot read an image from'),
    'image_a_folder': ('seg', 'seg.py', 'seg.onnx', '.', [], 'cannot read an image from'),
    'video_missing': ('video', 'video.py', 'video.onnx', 'missing.avi', [], 'cannot read frames from'),
    'video_without_frames': ('video', 'video.py', 'video.onnx', 'no_frames.avi', [], 'cannot read frames from'),
    'video_not_a_video': ('video', 'video.py', 'video.onnx', 'labels.txt', [], 'cannot read frames from'),
    'labels_not_utf8': ('video', 'video.py', 'video.onnx', 'clip.avi', ['--label-file', 'labels_latin1.txt'],
                        'labels_latin1.txt is not UTF-8 text (byte 15 is 0xe9)'),
    'labels_with_a_blank_line': ('video', 'video.py', 'video.onnx', 'clip.avi',
                                 ['--label-file', 'labels_blank_line.txt'], 'has blank lines between class names '
                                                                            '(line 2)'),
    'labels_too_few': ('video', 'video.py', 'video.onnx', 'clip.avi', ['--label-file', 'labels_two.txt'],
                       'labels_two.txt has 2 names for 3 classes'),
    'labels_missing': ('video', 'video.py', 'video.onnx', 'clip.avi', ['--label-file', 'missing.txt'],
                       'cannot read the label file'),
    'labels_a_folder': ('video', 'video.py', 'video.onnx', 'clip.avi', ['--label-file', '.'],
                        'cannot read the label file'),
    'seg_model_in_video_mode': ('video', 'video.py', 'seg.onnx', 'clip.avi', [],
                                "takes tensor(float) of shape [1, 3, 32, 32], but the config's preprocessing makes "
                                'tensor(float) of shape [1, 3, 4, 16, 16]'),
    'video_model_in_seg_mode': ('seg', 'seg.py', 'video.onnx', 'photo.png', [],
                                'takes tensor(float) of shape [1, 3, 4, 16, 16]'),
    'model_of_another_input_type': ('seg', 'seg.py', 'seg_double.onnx', 'photo.png', [], 'takes tensor(double)'),
    'model_of_other_logits': ('seg', 'seg.py', 'seg_flat.onnx', 'photo.png', [],
                              'gave logits of shape [1, 3]; this example reads (batch, classes, height, width)'),
    'model_missing': ('seg', 'seg.py', 'missing.onnx', 'photo.png', [], 'cannot load'),
    'model_not_onnx': ('seg', 'seg.py', 'photo.png', 'photo.png', [], 'cannot load'),
    'seg_model_gives_nan': ('seg', 'seg.py', 'seg_nan.onnx', 'photo.png', ['--out-file', 'nan.png'],
                            'gave NaN or infinite logits'),
    'video_model_gives_nan': ('video', 'video.py', 'video_nan.onnx', 'clip.avi', [], 'gave NaN or infinite logits'),
    'config_missing': ('seg', 'missing.py', 'seg.onnx', 'photo.png', [], 'cannot read the config'),
    'config_without_test_dataloader': ('seg', 'no_test_dataloader.py', 'seg.onnx', 'photo.png', [],
                                       "the config has no 'test_dataloader'"),
    'config_without_sampler': ('video', 'no_sampler.py', 'video.onnx', 'clip.avi', [],
                               'the test pipeline has no SampleFrames or UniformSample step'),
    'config_without_clip_len': ('video', 'no_clip_len.py', 'video.onnx', 'clip.avi', [],
                                "the SampleFrames step has no 'clip_len'"),
    'config_without_mean': ('seg', 'no_mean.py', 'seg.onnx', 'photo.png', [],
                            "the data_preprocessor has no 'mean'"),
    'config_resizing_by_factor': ('seg', 'resize_by_factor.py', 'seg.onnx', 'photo.png', [],
                                  "the Resize step has no 'scale'"),
    'config_without_crop_size': ('video', 'no_crop_size.py', 'video.onnx', 'clip.avi', [],
                                 "the CenterCrop step has no 'crop_size'"),
    'config_without_cls_head': ('video', 'no_cls_head.py', 'video.onnx', 'clip.avi', [],
                                "model has no 'cls_head'"),
    'config_steps_without_type': ('seg', 'steps_without_type.py', 'seg.onnx', 'photo.png', [],
                                  'must be a list of steps, each a dict with a type'),
}


@pytest.mark.parametrize('task, config, model, source, extra, message', HOSTILE_INPUTS.values(),
                         ids=HOSTILE_INPUTS)
def test_a_hostile_input_stops_the_example_with_a_message(files, monkeypatch, task, config, model, source, extra,
                                                          message):
    monkeypatch.chdir(files)
    assert message in exit_message(task, config, model, source, *extra)


@pytest.mark.parametrize('argument, message', [
    (['--out-file', 'map.jpg'], 'the class map is written as PNG'),  # JPEG would blur the class indices
    (['--out-file', 'map'], 'the class map is written as PNG'),
    (['--topk', '0'], '--topk 0: give at least 1'),
    (['--topk', '-1'], '--topk -1: give at least 1'),  # printed every class but the last
])
def test_a_hostile_option_is_refused_before_anything_runs(capsys, argument, message):
    with pytest.raises(SystemExit) as stopped:
        run_demo('seg', 'missing.py', 'missing.onnx', 'missing.png', *argument)
    assert stopped.value.code == 2 and message in capsys.readouterr().err


def test_an_unwritable_class_map_is_reported(files):
    (files / 'a_folder.png').mkdir()
    for out_file in (files / 'a_folder.png', files / 'photo.png' / 'map.png'):
        assert exit_message('seg', files / 'seg.py', files / 'seg.onnx', files / 'photo.png', '--out-file',
                            out_file).startswith(f'cannot write {out_file}')


@pytest.mark.parametrize('num_frames', [1, 2, 3, 6, 7, 16, 40])
@pytest.mark.parametrize('step', [
    dict(type='SampleFrames', clip_len=4, frame_interval=2, num_clips=1),
    dict(type='SampleFrames', clip_len=8, frame_interval=4, num_clips=3),
    dict(type='UniformSample', clip_len=8, num_clips=1),
    dict(type='UniformSample', clip_len=4, num_clips=4),
], ids=['sample-4x2', 'sample-8x4x3', 'uniform-8', 'uniform-4x4'])
def test_a_short_video_is_sampled_as_mmaction2_samples_it(step, num_frames):
    from mmaction.datasets.transforms import SampleFrames, UniformSample
    sampler = {'SampleFrames': SampleFrames, 'UniformSample': UniformSample}[step['type']]
    params = {key: value for key, value in step.items() if key != 'type'}
    expected = sampler(**params, test_mode=True)(dict(total_frames=num_frames, start_index=0))['frame_inds']
    assert demo.sample_frames(step, num_frames).ravel().tolist() == expected.tolist()


# ---- in a child process with a memory limit and a time limit ------------------------------------------------------
# The child imports the example, then may map ADDRESS_SPACE_HEADROOM bytes beyond what it then has (the limit of
# hostile_checkpoints.load_in_children: a net, so that a regression fails the test instead of filling the machine),
# and reports how far its resident size grew while the example ran (the measure the tests hold to a bound).
LIMITED_CHILD = r"""
import importlib.util, resource, sys
spec = importlib.util.spec_from_file_location('onnxruntime_demo', sys.argv[1])
demo = importlib.util.module_from_spec(spec)
spec.loader.exec_module(demo)


def status(field):
    with open('/proc/self/status') as file:
        return next(int(line.split()[1]) * 1024 for line in file if line.startswith(field + ':'))


resource.setrlimit(resource.RLIMIT_AS, (status('VmSize') + int(sys.argv[2]), resource.RLIM_INFINITY))
with open('/proc/self/clear_refs', 'w') as file:
    file.write('5')  # resets the peak resident size to the current one
resident = status('VmRSS')
try:
    demo.main(sys.argv[3:])
finally:
    print('PEAK_RESIDENT_GROWTH', status('VmHWM') - resident, flush=True)
"""
# Wide enough for the thread stacks of a many-core machine (ONNX Runtime, OpenCV and FFmpeg each start a thread per
# core), far below the 4 GiB label file.
ADDRESS_SPACE_HEADROOM = 2 << 30
# What a run may add to the resident size: the tiny models, a clip of 4 frames, decoder buffers.
RESIDENT_GROWTH_BOUND = 128 << 20


def run_limited(argv, timeout: float = 60) -> Tuple[subprocess.CompletedProcess, int]:
    """The example run on ``argv`` in a child process that may map :data:`ADDRESS_SPACE_HEADROOM` more bytes than
    it has after its imports and is killed after ``timeout`` seconds (the test then fails on ``TimeoutExpired``).

    Returns:
        The finished child and how many bytes its resident size grew at most while the example ran.
    """
    # glibc reserves 64 MiB of address space for each thread's malloc arena: two arenas keep a many-core machine's
    # reservations inside the headroom.
    result = subprocess.run([PYTHON, '-c', LIMITED_CHILD, DEMO, str(ADDRESS_SPACE_HEADROOM), *map(str, argv)],
                            capture_output=True, text=True, timeout=timeout,
                            env={**os.environ, 'MALLOC_ARENA_MAX': '2'})
    growth = [int(line.split()[1]) for line in result.stdout.splitlines() if line.startswith('PEAK_RESIDENT_GROWTH')]
    assert growth, f'the child died (exit status {result.returncode}): {result.stderr[-2000:]}'
    return result, growth[0]


@pytest.mark.parametrize('label_file', ['sparse_4gib.txt', '/dev/zero'])
def test_a_huge_label_file_is_refused_without_reading_it(files, label_file):
    # read_text() read all of it: a MemoryError at the headroom, or the machine's memory without one
    with open(files / 'sparse_4gib.txt', 'wb') as file:
        file.truncate(4 << 30)  # a hole: no disk used, 4 GiB of NUL when read
    result, growth = run_limited(['video', files / 'video.py', files / 'video.onnx', files / 'clip.avi',
                                  '--label-file', files / label_file])
    assert result.returncode == 1 and result.stderr.strip().endswith(
        'is over 3072 bytes, more than 3 class names take (1024 bytes each at most)'), result.stderr[-2000:]
    assert growth < RESIDENT_GROWTH_BOUND


def test_a_long_video_is_read_without_holding_its_frames(files):
    # 400 frames of 640x480 decode to 369 MB, all of which the example held: it keeps the clip's 4 frames now
    long_video = write_video(files / 'long.avi', 400, size=(640, 480))
    result, growth = run_limited(['video', files / 'video.py', files / 'video.onnx', long_video])
    assert result.returncode == 0 and len(result.stdout.splitlines()) == 4, result.stderr[-2000:]
    assert growth < RESIDENT_GROWTH_BOUND, f'{growth >> 20} MiB'
