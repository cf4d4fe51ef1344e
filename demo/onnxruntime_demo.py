"""Runs a segmentation or video model exported by ``tools/deployment/pytorch2onnx.py --part model`` in ONNX
Runtime, with the pre- and post-processing of the codebase's inferencer written out in NumPy and OpenCV: what an
application outside OpenMMLab needs around the exported file. The numbers (resize scale, crop, frame sampling,
mean and std, clip averaging) are read from the model's config, so the same code serves every shipped config of
the supported shapes; a config step it does not implement is refused by name.

Segmentation (mmseg, ``whole`` inference): resize keeping the ratio to the config's scale (OpenCV bilinear, as
mmcv), normalise, run; the 1/4-size logits are resized bilinearly to the resized image and then to the original
size (align_corners=False, as ``EncoderDecoder.predict``), and the class is their argmax.

Video (mmaction2): decode every frame (OpenCV, as RGB), sample the config's test clips (``SampleFrames`` or
``UniformSample`` in test mode), resize (short side, or to a fixed size), centre-crop, normalise, run one row of
logits per clip and average the clips as the head's ``average_clips`` says (``prob``: softmax first).

Example (a toy segmenter; the video model the same way with ``video``, a clip and ``--label-file``):
    python tools/deployment/pytorch2onnx.py configs/mmseg/toy/fpn_uniformer-xxs_toy-shapes-160x160.py \\
        work_dirs/toy_demo_seg-xxs/train/iter_240.pth --part model --output-file seg.onnx
    python demo/onnxruntime_demo.py seg configs/mmseg/toy/fpn_uniformer-xxs_toy-shapes-160x160.py seg.onnx \\
        photo.jpg --out-file seg.png

Every input is checked: a file that cannot be read, a config without a setting the example reads, a model whose
input does not match the config's preprocessing or whose logits are not finite, and a label file that is not one
UTF-8 name per class stop the example with a message that says which, not with a traceback or a class read from
garbage; a long video costs decoding time, not memory, and a huge label file is refused unread.
"""
import argparse
from pathlib import Path
from typing import Any, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import onnxruntime
from mmengine.config import Config

# A label file may hold this many bytes per class: far more than any class name, far less than a file that would
# fill memory (the file is read up to that size, so /dev/zero or a multi-gigabyte file is refused, not loaded).
MAX_LABEL_BYTES_PER_CLASS = 1024


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('task', choices=['seg', 'video'])
    parser.add_argument('config', help='the config the model was exported from')
    parser.add_argument('onnx_file', help='tools/deployment/pytorch2onnx.py --part model output')
    parser.add_argument('input', help='an image (seg) or a video file (video)')
    parser.add_argument('--out-file', help='seg: where the class map goes (PNG, one class index per pixel)')
    parser.add_argument('--label-file', help='video: class names, one per line in class order (UTF-8)')
    parser.add_argument('--topk', type=int, default=5, help='video: how many classes to print')
    args = parser.parse_args(argv)
    if args.out_file and Path(args.out_file).suffix.lower() != '.png':
        parser.error(f'--out-file {args.out_file}: the class map is written as PNG (a lossy format such as JPEG '
                     'would change class indices), give a .png name')
    if args.topk < 1:
        parser.error(f'--topk {args.topk}: give at least 1')
    return args


def required(section: Any, key: str, where: str) -> Any:
    """``section[key]``, or an exit that names the setting the config lacks.

    Args:
        section (Config | dict | None): A part of the config (``None`` where the part itself is missing).
        key (str): The setting the example reads.
        where (str): The part, as the message names it (``'model.data_preprocessor'``).
    """
    value = section.get(key) if section is not None else None
    if value is None:
        raise SystemExit(f'{where} has no {key!r}, which this example reads')
    return value


def load_config(config_file: str) -> Config:
    """The config, or an exit if there is no such file (an error inside the config keeps its traceback, which
    points into it)."""
    try:
        return Config.fromfile(config_file)
    except FileNotFoundError as error:
        raise SystemExit(f'cannot read the config {config_file}: {error}')


def pipeline_of(cfg: Config) -> List[dict]:
    """The config's ``test_dataloader.dataset.pipeline``, each step a dict with a ``type``."""
    dataset = required(required(cfg, 'test_dataloader', 'the config'), 'dataset', 'test_dataloader')
    pipeline = required(dataset, 'pipeline', 'test_dataloader.dataset')
    if not isinstance(pipeline, list) or not all(isinstance(step, dict) and 'type' in step for step in pipeline):
        raise SystemExit('test_dataloader.dataset.pipeline must be a list of steps, each a dict with a type')
    return pipeline


def pipeline_step(pipeline: List[dict], *types: str) -> Optional[dict]:
    """The first step of one of ``types`` in a test pipeline, if any."""
    return next((step for step in pipeline if step['type'] in types), None)


def data_preprocessor(cfg: Config) -> dict:
    """The data preprocessor's settings (the config's own, else the model's), with the mean and std the example
    normalises with."""
    preprocessor = cfg.get('data_preprocessor') or required(required(cfg, 'model', 'the config'),
                                                            'data_preprocessor', 'model')
    for key in ('mean', 'std'):
        required(preprocessor, key, 'the data_preprocessor')
    return preprocessor


def refuse_unsupported(pipeline: List[dict], supported: set) -> None:
    unknown = [step['type'] for step in pipeline if step['type'] not in supported]
    if unknown:
        raise SystemExit(f'the test pipeline has steps this example does not implement: {unknown}; '
                         f'it implements {sorted(supported)}')


def rescaled_size(width: int, height: int, scale: Tuple[float, float]) -> Tuple[int, int]:
    """mmcv's keep-ratio rescale: the largest size whose long edge fits max(scale) and short edge min(scale)."""
    factor = min(max(scale) / max(width, height), min(scale) / min(width, height))
    return int(width * factor + 0.5), int(height * factor + 0.5)


def load_model(onnx_file: str) -> onnxruntime.InferenceSession:
    """An ONNX Runtime session on the CPU, or an exit saying why the file does not load."""
    try:
        return onnxruntime.InferenceSession(onnx_file, providers=['CPUExecutionProvider'])
    except Exception as error:  # onnxruntime's errors (NoSuchFile, InvalidProtobuf, ...) share no narrower base
        raise SystemExit(f'cannot load {onnx_file} in ONNX Runtime: {error}')


def run_model(session: onnxruntime.InferenceSession, onnx_file: str, inputs: np.ndarray,
              logits_layout: Tuple[str, ...]) -> np.ndarray:
    """The model's logits for ``inputs``, after checking that the file takes what the config's preprocessing made
    and gives one batch of finite logits in ``logits_layout`` (an argmax over NaN would name class 0 unprompted).

    Args:
        session: The model.
        onnx_file (str): Its file, as the messages name it.
        inputs (np.ndarray): The preprocessed batch, float32.
        logits_layout (tuple[str]): The names of the logits' dimensions, batch first (``('clips', 'classes')``).
    """
    declared_inputs, declared_outputs = session.get_inputs(), session.get_outputs()
    if len(declared_inputs) != 1 or len(declared_outputs) != 1:
        raise SystemExit(f'{onnx_file} has {len(declared_inputs)} inputs and {len(declared_outputs)} outputs; this '
                         'example runs one input to one output of logits (pytorch2onnx.py --part model)')
    declared = declared_inputs[0]
    fits = len(declared.shape) == inputs.ndim and all(
        not isinstance(size, int) or size == actual for size, actual in zip(declared.shape, inputs.shape))
    if declared.type != 'tensor(float)' or not fits:
        raise SystemExit(f'{onnx_file} takes {declared.type} of shape {declared.shape}, but the config\'s '
                         f'preprocessing makes tensor(float) of shape {list(inputs.shape)}: run a model exported '
                         'from this config for this task (pytorch2onnx.py --part model, --shape to match)')
    try:
        (logits, ) = session.run(None, {declared.name: np.ascontiguousarray(inputs)})
    except Exception as error:  # as in load_model
        raise SystemExit(f'ONNX Runtime could not run {onnx_file}: {error}')
    if logits.ndim != len(logits_layout) or logits.shape[0] != inputs.shape[0] or 0 in logits.shape:
        raise SystemExit(f'{onnx_file} gave logits of shape {list(logits.shape)}; this example reads '
                         f'({", ".join(logits_layout)}) with {inputs.shape[0]} in the first dimension')
    if not np.isfinite(logits).all():
        raise SystemExit(f'{onnx_file} gave NaN or infinite logits, from which no class can be read (is the '
                         'export right? pytorch2onnx.py compares it with PyTorch)')
    return logits


def normalise(images: np.ndarray, preprocessor: dict) -> np.ndarray:
    """(..., H, W, 3) uint8 in the decoder's channel order to float32 (x - mean) / std."""
    if preprocessor.get('bgr_to_rgb') or preprocessor.get('to_rgb'):
        images = images[..., ::-1]
    mean, std = (np.asarray(preprocessor[key], np.float32) for key in ('mean', 'std'))
    return (images.astype(np.float32) - mean) / std


def segment(cfg: Config, session: onnxruntime.InferenceSession, onnx_file: str, image_file: str) -> np.ndarray:
    """The (H, W) class map of an image, as ``MMSegInferencer`` computes it."""
    if (required(cfg, 'model', 'the config').get('test_cfg') or {}).get('mode', 'whole') != 'whole':
        raise SystemExit("this example implements mmseg's 'whole' inference, not sliding windows")
    pipeline = pipeline_of(cfg)
    refuse_unsupported(pipeline, {'LoadImageFromFile', 'Resize', 'LoadAnnotations', 'PackSegInputs'})
    image = cv2.imread(image_file, cv2.IMREAD_COLOR)
    if image is None:
        raise SystemExit(f'cannot read an image from {image_file}')
    height, width = image.shape[:2]
    resize = pipeline_step(pipeline, 'Resize')
    if resize is not None:
        scale = required(resize, 'scale', 'the Resize step')
        size = rescaled_size(width, height, scale) if resize.get('keep_ratio') else tuple(scale)
        image = cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)
    inputs = normalise(image, data_preprocessor(cfg)).transpose(2, 0, 1)[None]
    logits = run_model(session, onnx_file, inputs, ('batch', 'classes', 'height', 'width'))
    logits = logits[0].transpose(1, 2, 0)
    for size in (image.shape[1::-1], (width, height)):
        logits = cv2.resize(logits, tuple(size), interpolation=cv2.INTER_LINEAR).reshape(size[1], size[0], -1)
    return logits.argmax(axis=-1)


def sample_frames(step: dict, num_frames: int) -> np.ndarray:
    """Frame indices (clips, clip_len) of ``SampleFrames`` / ``UniformSample`` in test mode; a video shorter
    than a clip is looped (``SampleFrames``) or its frames repeated (``UniformSample``), as mmaction2 does."""
    clip_len = required(step, 'clip_len', f"the {step['type']} step")
    if step['type'] == 'UniformSample':
        segment_size = (num_frames - 1) / clip_len
        duration = segment_size / (step.get('num_clips', 1) + 1)
        return np.array([[int(np.round(segment_size * i)) + int(duration * (k + 1)) for i in range(clip_len)]
                         for k in range(step.get('num_clips', 1))])
    if any(step.get(key) for key in ('twice_sample', 'target_fps', 'temporal_jitter')) or clip_len == 1:
        raise SystemExit('this example implements SampleFrames for 3D models without twice_sample, target_fps '
                         'or temporal_jitter')
    interval, num_clips = step.get('frame_interval', 1), step.get('num_clips', 1)
    max_offset = max(num_frames - ((clip_len - 1) * interval + 1), 0)
    offsets = (np.round(np.arange(num_clips) * max_offset / (num_clips - 1)) if num_clips > 1
               else np.array([max_offset // 2]))
    indices = offsets[:, None].astype(int) + np.arange(clip_len)[None] * interval
    return np.mod(indices, num_frames)  # out_of_bound_opt='loop', the default


def read_sampled_frames(video_file: str, sampler: dict) -> Tuple[np.ndarray, np.ndarray]:
    """The frames a test-mode sampler picks from a video, decoded as RGB, and their indices (clips, clip_len).

    The frames are counted first and only the picked ones are kept, so that a long video costs decoding time but
    not memory (all of a one-hour 1080p video would take over 600 GB).

    Args:
        video_file (str): The video.
        sampler (dict): The config's ``SampleFrames`` or ``UniformSample`` step.
    """
    capture, num_frames = cv2.VideoCapture(video_file), 0
    while capture.grab():
        num_frames += 1
    capture.release()
    if num_frames == 0:
        raise SystemExit(f'cannot read frames from {video_file}')
    indices = sample_frames(sampler, num_frames)
    wanted, frames = set(indices.ravel().tolist()), {}
    capture = cv2.VideoCapture(video_file)
    for index in range(max(wanted) + 1):
        if not capture.grab():
            break
        if index in wanted:
            ok, frame = capture.retrieve()
            if not ok:
                break
            frames[index] = frame[..., ::-1]
    capture.release()
    if len(frames) != len(wanted):
        raise SystemExit(f'{video_file} gave {num_frames} frames when counted but fewer when read again')
    return np.stack([frames[index] for index in indices.ravel()]), indices


def classify_clip(cfg: Config, session: onnxruntime.InferenceSession, onnx_file: str, video_file: str) -> np.ndarray:
    """Class scores of a video, as ``MMAction2Inferencer`` computes them."""
    pipeline = pipeline_of(cfg)
    refuse_unsupported(pipeline, {'DecordInit', 'OpenCVInit', 'PyAVInit', 'SampleFrames', 'UniformSample',
                                  'DecordDecode', 'OpenCVDecode', 'PyAVDecode', 'RawFrameDecode', 'Resize',
                                  'CenterCrop', 'ThreeCrop', 'TenCrop', 'FormatShape', 'PackActionInputs'})
    sampler = pipeline_step(pipeline, 'SampleFrames', 'UniformSample')
    if sampler is None:
        raise SystemExit('the test pipeline has no SampleFrames or UniformSample step, which this example reads')
    clips, indices = read_sampled_frames(video_file, sampler)
    resize = pipeline_step(pipeline, 'Resize')
    if resize is not None:
        height, width = clips.shape[1:3]
        scale = required(resize, 'scale', 'the Resize step')
        if -1 in scale:  # short side to the other number
            size = rescaled_size(width, height, (np.inf, max(scale)))
        else:
            size = rescaled_size(width, height, scale) if resize.get('keep_ratio', True) else tuple(scale)
        clips = np.stack([cv2.resize(frame, size, interpolation=cv2.INTER_LINEAR) for frame in clips])
    crop = pipeline_step(pipeline, 'CenterCrop', 'ThreeCrop', 'TenCrop')  # the inferencer centre-crops all three
    if crop is not None:
        crop_size = required(crop, 'crop_size', f"the {crop['type']} step")
        crop_w, crop_h = (crop_size, ) * 2 if isinstance(crop_size, int) else crop_size
        top, left = (clips.shape[1] - crop_h) // 2, (clips.shape[2] - crop_w) // 2
        clips = clips[:, top:top + crop_h, left:left + crop_w]
    clips = normalise(clips, data_preprocessor(cfg))
    clips = clips.reshape(len(indices), indices.shape[1], *clips.shape[1:]).transpose(0, 4, 1, 2, 3)
    logits = run_model(session, onnx_file, clips, ('clips', 'classes'))
    head = required(required(cfg, 'model', 'the config'), 'cls_head', 'model')
    if head.get('average_clips', 'score') == 'prob':
        logits = np.exp(logits - logits.max(axis=1, keepdims=True))
        logits /= logits.sum(axis=1, keepdims=True)
    return logits.mean(axis=0)


def read_class_names(label_file: str, num_classes: int) -> List[str]:
    """The class names of a label file, one per line in class order, checked: UTF-8 (a byte-order mark allowed),
    no blank line between names (it would shift every name after it), one name per class; blank lines at the end
    are ignored. At most :data:`MAX_LABEL_BYTES_PER_CLASS` bytes per class are read.

    Args:
        label_file (str): The file.
        num_classes (int): How many classes the model scores.
    """
    limit = MAX_LABEL_BYTES_PER_CLASS * num_classes
    try:
        with open(label_file, 'rb') as file:
            data = file.read(limit + 1)
    except OSError as error:
        raise SystemExit(f'cannot read the label file {label_file}: {error.strerror}')
    if len(data) > limit:
        raise SystemExit(f'{label_file} is over {limit} bytes, more than {num_classes} class names take '
                         f'({MAX_LABEL_BYTES_PER_CLASS} bytes each at most)')
    try:
        text = data.decode('utf-8-sig')
    except UnicodeDecodeError as error:
        raise SystemExit(f'{label_file} is not UTF-8 text (byte {error.start} is {data[error.start]:#x}): '
                         'save it as UTF-8')
    names = [line.strip() for line in text.splitlines()]
    while names and not names[-1]:
        names.pop()
    blank = [number for number, name in enumerate(names, 1) if not name]
    if blank:
        raise SystemExit(f'{label_file} has blank lines between class names (line {", ".join(map(str, blank[:5]))}'
                         f'{", ..." if len(blank) > 5 else ""}): give one name per line in class order')
    if len(names) != num_classes:
        raise SystemExit(f'{label_file} has {len(names)} names for {num_classes} classes')
    return names


def write_class_map(classes: np.ndarray, out_file: Path) -> None:
    """Writes the class map as a PNG, or exits saying it could not (cv2.imwrite reports some failures only by
    returning False)."""
    try:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        written = cv2.imwrite(str(out_file), classes.astype(np.uint8 if classes.max() < 256 else np.uint16))
    except (OSError, cv2.error) as error:
        raise SystemExit(f'cannot write {out_file}: {error}')
    if not written:
        raise SystemExit(f'cannot write {out_file}')


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    cfg = load_config(args.config)
    session = load_model(args.onnx_file)
    if args.task == 'seg':
        classes = segment(cfg, session, args.onnx_file, args.input)
        out_file = Path(args.out_file or 'seg.png')
        write_class_map(classes, out_file)
        counts = np.bincount(classes.ravel())
        print(f'wrote {out_file}; pixels per class: ' +
              ', '.join(f'{index}: {count}' for index, count in enumerate(counts) if count))
        return
    scores = classify_clip(cfg, session, args.onnx_file, args.input)
    names = (read_class_names(args.label_file, len(scores)) if args.label_file else
             [str(index) for index in range(len(scores))])
    for index in np.argsort(-scores, kind='stable')[:args.topk]:
        print(f'{names[index]}: {scores[index]:.4f}')


if __name__ == '__main__':
    main()
