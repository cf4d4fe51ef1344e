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
"""
import argparse
from pathlib import Path
from typing import List, Optional, Tuple

import cv2
import numpy as np
import onnxruntime
from mmengine.config import Config


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('task', choices=['seg', 'video'])
    parser.add_argument('config', help='the config the model was exported from')
    parser.add_argument('onnx_file', help='tools/deployment/pytorch2onnx.py --part model output')
    parser.add_argument('input', help='an image (seg) or a video file (video)')
    parser.add_argument('--out-file', help='seg: where the class map goes (PNG, one class index per pixel)')
    parser.add_argument('--label-file', help='video: class names, one per line in class order')
    parser.add_argument('--topk', type=int, default=5, help='video: how many classes to print')
    return parser.parse_args()


def pipeline_step(pipeline: List[dict], *types: str) -> Optional[dict]:
    """The first step of one of ``types`` in a test pipeline, if any."""
    return next((step for step in pipeline if step['type'] in types), None)


def refuse_unsupported(pipeline: List[dict], supported: set) -> None:
    unknown = [step['type'] for step in pipeline if step['type'] not in supported]
    if unknown:
        raise SystemExit(f'the test pipeline has steps this example does not implement: {unknown}; '
                         f'it implements {sorted(supported)}')


def rescaled_size(width: int, height: int, scale: Tuple[float, float]) -> Tuple[int, int]:
    """mmcv's keep-ratio rescale: the largest size whose long edge fits max(scale) and short edge min(scale)."""
    factor = min(max(scale) / max(width, height), min(scale) / min(width, height))
    return int(width * factor + 0.5), int(height * factor + 0.5)


def normalise(images: np.ndarray, preprocessor: dict) -> np.ndarray:
    """(..., H, W, 3) uint8 in the decoder's channel order to float32 (x - mean) / std."""
    if preprocessor.get('bgr_to_rgb') or preprocessor.get('to_rgb'):
        images = images[..., ::-1]
    mean, std = (np.asarray(preprocessor[key], np.float32) for key in ('mean', 'std'))
    return (images.astype(np.float32) - mean) / std


def segment(cfg: Config, session: onnxruntime.InferenceSession, image_file: str) -> np.ndarray:
    """The (H, W) class map of an image, as ``MMSegInferencer`` computes it."""
    if cfg.model.get('test_cfg', {}).get('mode', 'whole') != 'whole':
        raise SystemExit("this example implements mmseg's 'whole' inference, not sliding windows")
    pipeline = cfg.test_dataloader.dataset.pipeline
    refuse_unsupported(pipeline, {'LoadImageFromFile', 'Resize', 'LoadAnnotations', 'PackSegInputs'})
    image = cv2.imread(image_file, cv2.IMREAD_COLOR)
    if image is None:
        raise SystemExit(f'cannot read an image from {image_file}')
    height, width = image.shape[:2]
    resize = pipeline_step(pipeline, 'Resize')
    if resize is not None:
        size = rescaled_size(width, height, resize['scale']) if resize.get('keep_ratio') else resize['scale']
        image = cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)
    preprocessor = cfg.get('data_preprocessor') or cfg.model.data_preprocessor
    inputs = normalise(image, preprocessor).transpose(2, 0, 1)[None]
    (logits, ) = session.run(None, {session.get_inputs()[0].name: np.ascontiguousarray(inputs)})
    logits = logits[0].transpose(1, 2, 0)
    for size in (image.shape[1::-1], (width, height)):
        logits = cv2.resize(logits, tuple(size), interpolation=cv2.INTER_LINEAR).reshape(size[1], size[0], -1)
    return logits.argmax(axis=-1)


def sample_frames(step: dict, num_frames: int) -> np.ndarray:
    """Frame indices (clips, clip_len) of ``SampleFrames`` / ``UniformSample`` in test mode."""
    clip_len = step['clip_len']
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


def classify_clip(cfg: Config, session: onnxruntime.InferenceSession, video_file: str) -> np.ndarray:
    """Class scores of a video, as ``MMAction2Inferencer`` computes them."""
    pipeline = cfg.test_dataloader.dataset.pipeline
    refuse_unsupported(pipeline, {'DecordInit', 'OpenCVInit', 'PyAVInit', 'SampleFrames', 'UniformSample',
                                  'DecordDecode', 'OpenCVDecode', 'PyAVDecode', 'RawFrameDecode', 'Resize',
                                  'CenterCrop', 'ThreeCrop', 'TenCrop', 'FormatShape', 'PackActionInputs'})
    capture, frames = cv2.VideoCapture(video_file), []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame[..., ::-1])
    if not frames:
        raise SystemExit(f'cannot read frames from {video_file}')
    indices = sample_frames(pipeline_step(pipeline, 'SampleFrames', 'UniformSample'), len(frames))
    clips = np.stack([frames[i] for i in indices.ravel()])
    resize = pipeline_step(pipeline, 'Resize')
    if resize is not None:
        height, width = clips.shape[1:3]
        scale = resize['scale']
        if -1 in scale:  # short side to the other number
            size = rescaled_size(width, height, (np.inf, max(scale)))
        else:
            size = rescaled_size(width, height, scale) if resize.get('keep_ratio', True) else tuple(scale)
        clips = np.stack([cv2.resize(frame, size, interpolation=cv2.INTER_LINEAR) for frame in clips])
    crop = pipeline_step(pipeline, 'CenterCrop', 'ThreeCrop', 'TenCrop')  # the inferencer centre-crops all three
    if crop is not None:
        crop_w, crop_h = (crop['crop_size'], ) * 2 if isinstance(crop['crop_size'], int) else crop['crop_size']
        top, left = (clips.shape[1] - crop_h) // 2, (clips.shape[2] - crop_w) // 2
        clips = clips[:, top:top + crop_h, left:left + crop_w]
    clips = normalise(clips, cfg.model.data_preprocessor)
    clips = clips.reshape(len(indices), indices.shape[1], *clips.shape[1:]).transpose(0, 4, 1, 2, 3)
    (logits, ) = session.run(None, {session.get_inputs()[0].name: np.ascontiguousarray(clips)})
    if cfg.model.cls_head.get('average_clips', 'score') == 'prob':
        logits = np.exp(logits - logits.max(axis=1, keepdims=True))
        logits /= logits.sum(axis=1, keepdims=True)
    return logits.mean(axis=0)


def main() -> None:
    args = parse_args()
    cfg = Config.fromfile(args.config)
    session = onnxruntime.InferenceSession(args.onnx_file, providers=['CPUExecutionProvider'])
    if args.task == 'seg':
        classes = segment(cfg, session, args.input)
        out_file = Path(args.out_file or 'seg.png')
        out_file.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(out_file), classes.astype(np.uint8 if classes.max() < 256 else np.uint16))
        counts = np.bincount(classes.ravel())
        print(f'wrote {out_file}; pixels per class: ' +
              ', '.join(f'{index}: {count}' for index, count in enumerate(counts) if count))
        return
    scores = classify_clip(cfg, session, args.input)
    names = (Path(args.label_file).read_text().splitlines() if args.label_file else
             [str(index) for index in range(len(scores))])
    if len(names) != len(scores):
        raise SystemExit(f'{args.label_file} has {len(names)} names for {len(scores)} classes')
    for index in np.argsort(-scores, kind='stable')[:args.topk]:
        print(f'{names[index]}: {scores[index]:.4f}')


if __name__ == '__main__':
    main()
