"""Runs a shipped config through its codebase's inferencer and saves the picture of its predictions.

Tasks and the inferencer each uses (all offline, on the CPU):
    det    mmdet DetInferencer: boxes and masks
    seg    mmseg MMSegInferencer: the segmentation overlaid on the image
    pose   mmpose MMPoseInferencer with det_model='whole_image' (the whole image is the person box, so no
           detector is downloaded): keypoints and skeleton
    cls    mmpretrain ImageClassificationInferencer: the top class written on the image
    video  mmaction2 ActionRecogInferencer (what MMAction2Inferencer runs) with a label map: the predicted class
           and its score written on every frame (an mp4, through moviepy; frames under 256 px high are enlarged to
           256 so that the text can be read), plus a strip of frames as a picture. mmaction2 1.2.0's visualizer
           draws the prediction only from a ``pred_labels`` field that its own inferencer no longer sets
           (:func:`with_visualizer_labels`), so its mp4 carries none; this demo gives it one

By default each task runs the toy recipe of its codebase with the checkpoint that ``python demo/toy_demo.py TASK``
(or, for video, the mim commands of docs/toy_runs.md) leaves in work_dirs/, on a validation sample of the generated
data. ``--config`` / ``--checkpoint`` / ``--input`` take any other config, weights and image or video;
``--checkpoint none`` runs the initialised model (the pipeline, not a prediction). ``--deploy``, ``--compile`` and
``--channels-last`` take the fast CPU path (docs/deployment.md).

Example:
    python demo/inference_demo.py det --out-dir outputs/demo
"""
import argparse
from pathlib import Path

import cv2
import numpy as np
from mmengine.structures import LabelData

from uniformer_mm.apis import add_inference_speed_arguments, describe_inference_path, speed_up_from_args

ROOT = Path(__file__).resolve().parents[1]

VIDEO_CLASSES = ('left_to_right', 'right_to_left')  # tools/dataset_converters/generate_toy_video.py
DEFAULTS = {
    'det': ('configs/mmdet/toy/mask-rcnn_uniformer-xxs_fpn_toy-shapes.py', 'work_dirs/toy_demo_det-xxs/train',
            'data/toy_dense/coco/val'),
    'seg': ('configs/mmseg/toy/fpn_uniformer-xxs_toy-shapes-160x160.py', 'work_dirs/toy_demo_seg-xxs/train',
            'data/toy_dense/ade/images/validation'),
    'pose': ('configs/mmpose/toy/td-hm_uniformer-s_toy-figures-128x96.py', 'work_dirs/toy_demo_pose/train',
             'data/toy_dense/keypoints/val'),
    'cls': ('configs/mmpretrain/toy/uniformer-small_toy-shapes-96px.py', 'work_dirs/toy_demo_cls/train',
            'data/toy_classes/val/disc'),
    'video': ('configs/mmaction/toy/uniformer3d-xxs_toy-motion-rgb.py', 'work_dirs/toy_motion_xxs',
              'data/toy_motion/rawframes/val_0001'),
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('task', choices=sorted(DEFAULTS))
    parser.add_argument('--config')
    parser.add_argument('--checkpoint', help="weights; default: the toy run's last checkpoint; 'none': initialised")
    parser.add_argument('--input', help='an image (a video or a folder of frames for video); default: toy data')
    parser.add_argument('--out-dir', default='outputs/demo')
    add_inference_speed_arguments(parser)
    return parser.parse_args()


def default_checkpoint(work_dir: Path) -> Path:
    last = work_dir / 'last_checkpoint'
    if not last.exists():
        raise SystemExit(f'no checkpoint in {work_dir}: train the toy recipe first (python demo/toy_demo.py, '
                         'docs/toy_runs.md), or pass --checkpoint PATH or --checkpoint none')
    return Path(last.read_text().strip())


def first_file(folder: Path) -> Path:
    files = sorted(folder.glob('*.jpg')) if folder.is_dir() else []
    if not files:
        raise SystemExit(f'no .jpg in {folder}: generate the toy data (tools/dataset_converters/) or pass --input')
    return files[0]


def frames_to_video(frames_dir: Path, path: Path, fps: int = 8) -> Path:
    """Writes a folder of frames (rawframe layout) as an mp4, the input the video inferencer takes."""
    frames = [cv2.imread(str(f)) for f in sorted(frames_dir.glob('*.jpg'))]
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), fps, (width, height))
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def frame_strip(frames_dir: Path, label: str, path: Path, count: int = 6) -> Path:
    """A picture of ``count`` evenly spaced frames side by side with the predicted class under them."""
    files = sorted(frames_dir.glob('*.jpg'))
    picks = [files[int(i)] for i in np.linspace(0, len(files) - 1, count)]
    strip = np.concatenate([cv2.resize(cv2.imread(str(f)), (128, 128), interpolation=cv2.INTER_NEAREST)
                            for f in picks], axis=1)
    caption = np.full((28, strip.shape[1], 3), 255, np.uint8)
    cv2.putText(caption, f'predicted: {label}', (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.imwrite(str(path), np.concatenate([strip, caption], axis=0))
    return path


def with_visualizer_labels(sample):
    """A copy of a predicted ``ActionDataSample`` that mmaction2 1.2.0's ``ActionVisualizer`` draws the label of.

    The visualizer reads mmaction2 1.0's ``pred_labels`` (``item``: the class indices, ``score``: the scores by
    class); 1.2.0's recognizers set ``pred_label`` and ``pred_score`` instead, so without this the written video
    shows no prediction (upstream: mmaction/visualization/action_visualizer.py).

    Args:
        sample (ActionDataSample): A prediction of ``ActionRecogInferencer(..., return_datasamples=True)``.

    Returns:
        ActionDataSample: The copy, with ``pred_labels`` as well.
    """
    labelled = sample.clone()
    labelled.pred_labels = LabelData(item=sample.pred_label, score=sample.pred_score)
    return labelled


def speed_up(inferencer, args: argparse.Namespace) -> None:
    # mmengine's inferencers keep their config as ``cfg``, mmpretrain's as ``config``; int8 calibrates on it.
    config = getattr(inferencer, 'cfg', None) or getattr(inferencer, 'config', None)
    speed_up_from_args(inferencer.model, args, config)
    print(describe_inference_path(args.precision, args.backend))


def main() -> None:
    args = parse_args()
    default_config, work_dir, default_input = DEFAULTS[args.task]
    config = str(ROOT / (args.config or default_config))
    checkpoint = None if args.checkpoint == 'none' else (args.checkpoint or default_checkpoint(ROOT / work_dir))
    source = Path(args.input) if args.input else ROOT / default_input
    out_dir = Path(args.out_dir) / args.task
    out_dir.mkdir(parents=True, exist_ok=True)
    weights = str(checkpoint) if checkpoint else None

    if args.task == 'det':
        from mmdet.apis import DetInferencer
        inferencer = DetInferencer(model=config, weights=weights, device='cpu', show_progress=False)
        speed_up(inferencer, args)
        inferencer(str(first_file(source) if source.is_dir() else source), out_dir=str(out_dir), pred_score_thr=0.3)
        pictures = sorted((out_dir / 'vis').glob('*'))
    elif args.task == 'seg':
        from mmseg.apis import MMSegInferencer
        inferencer = MMSegInferencer(model=config, weights=weights, device='cpu')
        speed_up(inferencer, args)
        inferencer(str(first_file(source) if source.is_dir() else source), out_dir=str(out_dir))
        pictures = sorted((out_dir / 'vis').glob('*'))
    elif args.task == 'pose':
        from mmpose.apis import MMPoseInferencer
        inferencer = MMPoseInferencer(pose2d=config, pose2d_weights=weights, det_model='whole_image', device='cpu')
        speed_up(inferencer.inferencer, args)
        for _ in inferencer(str(first_file(source) if source.is_dir() else source), vis_out_dir=str(out_dir)):
            pass
        pictures = sorted(out_dir.glob('*.jpg'))
    elif args.task == 'cls':
        from mmpretrain.apis import ImageClassificationInferencer
        inferencer = ImageClassificationInferencer(model=config, pretrained=weights or False, device='cpu')
        speed_up(inferencer, args)
        result = inferencer(str(first_file(source) if source.is_dir() else source), show_dir=str(out_dir))[0]
        # Class names come from the checkpoint's metadata; without one there is only the index.
        print(f"predicted {result.get('pred_class', result['pred_label'])} ({result['pred_score']:.2f})")
        pictures = sorted(out_dir.glob('*.png')) + sorted(out_dir.glob('*.jpg'))
    else:
        from mmaction.apis.inferencers import ActionRecogInferencer
        label_file = out_dir / 'label_map.txt'
        label_file.write_text('\n'.join(VIDEO_CLASSES) + '\n')
        video = frames_to_video(source, out_dir / 'input.mp4') if source.is_dir() else source
        inferencer = ActionRecogInferencer(model=config, weights=weights, label_file=str(label_file), device='cpu')
        speed_up(inferencer, args)
        (sample, ) = inferencer(str(video), return_datasamples=True)['predictions']
        height = cv2.VideoCapture(str(video)).get(cv2.CAP_PROP_FRAME_HEIGHT)
        inferencer.visualize([str(video)], [with_visualizer_labels(sample)], vid_out_dir=str(out_dir / 'vis'),
                             target_resolution=(-1, 256) if height < 256 else None)
        label = VIDEO_CLASSES[int(sample.pred_label[0])]
        print(f'predicted {label} ({float(sample.pred_score.max()):.2f})')
        pictures = sorted((out_dir / 'vis').glob('*'))
        if source.is_dir():
            pictures.append(frame_strip(source, label, out_dir / 'frames.jpg'))
    if not pictures:
        raise SystemExit(f'the inferencer wrote no picture under {out_dir}')
    for picture in pictures:
        print(f'wrote {picture}')


if __name__ == '__main__':
    main()
