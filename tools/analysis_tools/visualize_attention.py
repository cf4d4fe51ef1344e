"""Draws what a UniFormer model attends to, on an image or a video clip, as PNG pictures.

Attention (stages 3 and 4 only: stages 1-2 are convolutional): for a chosen block (``--stage``, ``--block``;
negative counts from the end), the attention of one query token (``--query centre``, ``--query X,Y`` in pixels of
the input resized to ``--shape``, or ``--query cls``, the light models' class token and their default) or the mean
attention each token receives (``--received``), of one head or their mean (``--head``), as a heatmap over the
input. For the light models (XXS, XS) it also draws which tokens the block's token pruning kept (the others are
merged into one token and do not attend). In the window blocks of the dense ``-w``/``-h`` configs' stage 3 a query
sees its own window only (zero elsewhere), and ``--received`` averages over the queries of each token's window.
The weights are recomputed from the block's own projections (uniformer_mm.attention_maps); normal inference never
materialises them.

Grad-CAM (``--grad-cam``, classifiers and video recognizers; needs ``pip install -r requirements/analysis.txt``):
through pytorch-grad-cam for images, as mmpretrain's ``vis_cam`` does, and mmaction2's ``GradCAM`` for clips, on
the layer :func:`uniformer_mm.attention_maps.grad_cam_target_layer` names, for the top-scoring class.

Images are resized to ``--shape``; a video gives ``--num-frames`` frames sampled evenly through it. Pictures of
clips show one column per temporal token (two input frames each). Inputs are normalised with the config's
data_preprocessor mean and std.

Example:
    python tools/analysis_tools/visualize_attention.py configs/mmpretrain/uniformer-small_8xb128_in1k.py \\
        photo.jpg --checkpoint uniformer_small_in1k.pth --stage 4 --block -1 --out-dir work_dirs/attention
"""
import argparse
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import mmcv
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure  # no pyplot: files only, whatever the display backend
from mmengine.config import Config
from mmengine.runner import load_checkpoint

import uniformer_mm  # noqa: F401  (registers the backbones and the safe checkpoint loader)
from uniformer_mm.apis import build_model_from_config
from uniformer_mm.attention_maps import BlockAttention, grad_cam_target_layer, record_attention

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.webp', '.tif', '.tiff')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='a UniFormer config (mmpretrain, mmaction2, mmseg, mmdet or mmpose)')
    parser.add_argument('input', help='an image, or a video for video models')
    parser.add_argument('--checkpoint', help='weights to load (strictly); default: the untrained model')
    parser.add_argument('--out-dir', required=True, help='where the PNG pictures are written')
    parser.add_argument('--stage', type=int, default=4, help='3 or 4 (default 4)')
    parser.add_argument('--block', type=int, default=-1, help='block index in the stage, negative from the end')
    parser.add_argument('--head', default='mean', help="'mean' or a head index (default mean)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument('--query', help="'centre', 'cls' (light models' class token) or X,Y in pixels of the input "
                       "resized to --shape; default: 'cls' for light models, else 'centre'")
    where.add_argument('--received', action='store_true', help='mean attention each token receives instead')
    parser.add_argument('--grad-cam', action='store_true', help='also draw Grad-CAM of the top class')
    parser.add_argument('--shape', type=int, nargs=2, default=(224, 224), metavar=('H', 'W'),
                        help='input height and width (default 224 224)')
    parser.add_argument('--num-frames', type=int, default=8, help='frames sampled from a video (default 8)')
    args = parser.parse_args(argv)
    if args.head != 'mean':
        try:
            args.head = int(args.head)
        except ValueError:
            parser.error(f"--head must be 'mean' or a head index, got {args.head!r}")
    if args.query not in (None, 'centre', 'cls'):
        try:
            args.query = tuple(int(v) for v in args.query.split(','))
            assert len(args.query) == 2
        except (ValueError, AssertionError):
            parser.error(f"--query must be 'centre', 'cls' or X,Y in input pixels, got {args.query!r}")
    if args.num_frames < 1:
        parser.error(f'--num-frames must be positive, got {args.num_frames}')
    return args


def read_frames(path: str, num_frames: int, video: bool) -> np.ndarray:
    """(T, H, W, 3) uint8 RGB: the image (T = 1) or ``num_frames`` frames evenly spaced through the video."""
    if not Path(path).is_file():
        raise SystemExit(f'input {path} does not exist')
    if Path(path).suffix.lower() in IMAGE_SUFFIXES:
        if video:
            raise SystemExit(f'{path} is an image; a video model needs a video file')
        return mmcv.imread(path, channel_order='rgb')[None]
    if not video:
        raise SystemExit(f'{path} is not an image ({", ".join(IMAGE_SUFFIXES)}); an image model needs one')
    reader = mmcv.VideoReader(path)
    if len(reader) == 0:
        raise SystemExit(f'{path}: no frames could be read')
    indices = np.linspace(0, len(reader) - 1, num_frames).round().astype(int)
    return np.stack([mmcv.bgr2rgb(reader.get_frame(int(i))) for i in indices])


def to_model_input(frames: np.ndarray, shape: Tuple[int, int], model: torch.nn.Module,
                   video: bool) -> Tuple[np.ndarray, torch.Tensor]:
    """The frames resized to ``shape`` (uint8) and the normalised (1, 3, H, W) or (1, 3, T, H, W) input."""
    height, width = shape
    resized = np.stack([mmcv.imresize(frame, (width, height)) for frame in frames])
    preprocessor = model.data_preprocessor
    if getattr(preprocessor, 'mean', None) is None:
        raise SystemExit('the config\'s data_preprocessor has no mean and std to normalise the input with')
    mean, std = preprocessor.mean.flatten().float(), preprocessor.std.flatten().float()
    pixels = torch.from_numpy(resized).float().permute(3, 0, 1, 2)  # C, T, H, W
    inputs = (pixels - mean.view(3, 1, 1, 1)) / std.view(3, 1, 1, 1)
    return resized, inputs[None] if video else inputs[:, 0][None]


def heatmap_on(values: torch.Tensor, size: Tuple[int, int], padded: Tuple[int, int]) -> np.ndarray:
    """(H', W') token values (NaN where pruned) spread over the padded input the tokens cover, cropped to the
    input's ``size``: each token colours its own patch."""
    grid = values[None, None].float()
    return F.interpolate(grid, size=padded, mode='nearest')[0, 0, :size[0], :size[1]].numpy()


def _draw(axis, frame: np.ndarray, heat: Optional[np.ndarray], title: str, cmap: str = 'jet',
          limits: Tuple[float, float] = (None, None)) -> None:
    axis.imshow(frame)
    if heat is not None:
        axis.imshow(np.ma.masked_invalid(heat), cmap=cmap, alpha=0.55, vmin=limits[0], vmax=limits[1])
    axis.set_title(title, fontsize=8)
    axis.axis('off')


def attention_pictures(record: BlockAttention, frames: np.ndarray, args: argparse.Namespace, name: str,
                       query_pixel: Optional[Tuple[int, int]]) -> List[Path]:
    """Writes the attention heatmap (and for pruning blocks the kept tokens) per temporal token; returns paths."""
    video = len(record.grid) == 3
    height, width = frames.shape[1:3]
    stride = 32 if record.stage == 4 else 16
    padded = tuple(-(-v // 32) * 32 for v in (height, width))
    if args.received:
        values, what = record.received_map(args.head)[0], 'mean attention received'
    else:
        values, what = record.query_map(_query_tokens(args.query, record, query_pixel, stride), args.head)[0], \
            f'attention of the {"class token" if args.query == "cls" else "query (+)"}'
    if not video:
        values = values[None]
    kept = record.kept[0] if video else record.kept
    pruned = not bool(kept.all())
    # One colour scale for every frame of a clip.
    limits = (float(np.nanmin(values.numpy())), float(np.nanmax(values.numpy())))
    # One column per temporal token and one row per panel for clips; the panels side by side for images.
    times, panels = values.shape[0], 2 + pruned
    figure = Figure(figsize=(2.4 * (times if video else panels), 2.6 * (panels if video else 1)))
    axes = figure.subplots(panels if video else 1, times if video else panels, squeeze=False)
    axes = axes if video else axes.T
    for time in range(times):
        frame = frames[min(2 * time, len(frames) - 1)] if video else frames[0]
        suffix = f' (t={time})' if video else ''
        _draw(axes[0, time], frame, None, 'input' + suffix)
        _draw(axes[1, time], frame, heatmap_on(values[time], (height, width), padded),
              f'{what}{suffix}' if time == 0 else suffix.strip(), limits=limits)
        if query_pixel is not None and time == 0:  # a clip's query is in the first temporal token
            axes[1, time].plot(*query_pixel, marker='+', color='white', markersize=12, mew=2)
        if pruned:
            mask = heatmap_on(kept[time].float(), (height, width), padded)
            _draw(axes[2, time], frame, np.where(mask > 0, 1., np.nan), 'tokens kept' if time == 0 else '',
                  cmap='autumn')
    head = 'mean of heads' if args.head == 'mean' else f'head {args.head}'
    windows = '' if record.window_size is None else f', {record.window_size}x{record.window_size} windows'
    figure.suptitle(f'stage {record.stage}, block {record.block}, {head}{windows}', fontsize=9)
    figure.tight_layout()
    path = Path(args.out_dir) / f'{name}_stage{record.stage}_block{record.block}.png'
    figure.savefig(path, dpi=80)
    return [path]


def _query_tokens(query, record: BlockAttention, query_pixel: Optional[Tuple[int, int]], stride: int):
    """The record's query: 'cls', or the token under the query pixel (in the first temporal token for clips)."""
    if query == 'cls':
        return 'cls'
    token = (query_pixel[0] // stride, query_pixel[1] // stride)
    return (0, *token) if len(record.grid) == 3 else token


def grad_cam_pictures(model, config: Config, frames: np.ndarray, inputs: torch.Tensor, args: argparse.Namespace,
                      name: str) -> List[Path]:
    """Grad-CAM of the top class on the layer ``grad_cam_target_layer`` names."""
    try:
        from pytorch_grad_cam import GradCAM
        from pytorch_grad_cam.utils.image import show_cam_on_image
    except ImportError:
        raise SystemExit('--grad-cam needs pytorch-grad-cam: pip install -r requirements/analysis.txt '
                         '(grad-cam==1.4.8; mmpretrain 1.2.0 calls the pre-1.5 API)')
    layer_name = grad_cam_target_layer(model)
    path = Path(args.out_dir) / f'{name}_grad_cam.png'
    if config.default_scope == 'mmpretrain':
        layer = model.get_submodule(layer_name)
        classifier = _TensorMode(model)
        with GradCAM(model=classifier, target_layers=[layer], use_cuda=False) as cam:
            heat = cam(input_tensor=inputs)[0]
        picture = show_cam_on_image(frames[0].astype(np.float32) / 255, heat, use_rgb=True)
        mmcv.imwrite(mmcv.rgb2bgr(picture), str(path))
        return [path]
    if config.default_scope == 'mmaction':
        from mmaction.structures import ActionDataSample
        from mmaction.utils import GradCAM as ActionGradCAM
        clip = torch.from_numpy(frames).permute(3, 0, 1, 2)[None]  # 1 clip, C, T, H, W, uint8 as the loader gives
        cam = ActionGradCAM(model, layer_name.replace('.', '/'))
        blended, _ = cam(dict(inputs=[clip], data_samples=[ActionDataSample()]))
        strip = np.concatenate(list((blended[0].numpy() * 255).astype(np.uint8)), axis=1)
        mmcv.imwrite(mmcv.rgb2bgr(strip), str(path))
        return [path]
    raise SystemExit(f'--grad-cam needs a class score: a classifier (mmpretrain) or a video recognizer (mmaction), '
                     f'not a {config.default_scope} model')


class _TensorMode(torch.nn.Module):
    """A classifier as pytorch-grad-cam calls it: normalised images in, class logits out."""

    def __init__(self, classifier: torch.nn.Module) -> None:
        super().__init__()
        self.classifier = classifier

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.classifier(inputs, mode='tensor')


def main(argv: Optional[Sequence[str]] = None) -> List[Path]:
    args = parse_args(argv)
    config = Config.fromfile(args.config)
    if config.get('data_preprocessor'):  # the top-level one, as mmengine's Runner passes it to the model
        config.model.setdefault('data_preprocessor', config.data_preprocessor)
    model = build_model_from_config(config)
    if args.checkpoint:
        load_checkpoint(model, args.checkpoint, map_location='cpu', strict=True)
    model.eval()
    backbone = getattr(model, 'backbone', model)
    video = getattr(backbone, 'ndim', 2) == 3
    light = getattr(backbone, 'light', False)
    if args.query is None and not args.received:
        args.query = 'cls' if light else 'centre'
    frames, inputs = to_model_input(read_frames(args.input, args.num_frames, video), tuple(args.shape), model, video)
    height, width = frames.shape[1:3]
    if isinstance(args.query, tuple) and not (0 <= args.query[0] < width and 0 <= args.query[1] < height):
        raise SystemExit(f'--query {args.query} lies outside the {width}x{height} input (X,Y in input pixels)')
    query_pixel = (width // 2, height // 2) if args.query == 'centre' else args.query
    Path(args.out_dir).mkdir(parents=True, exist_ok=True)
    name = Path(args.input).stem
    try:
        with record_attention(backbone, [(args.stage, args.block)]) as records, torch.no_grad():
            backbone(inputs)
        written = attention_pictures(records[(args.stage, args.block)], frames, args, name,
                                     None if args.received or args.query == 'cls' else query_pixel)
    except ValueError as error:
        raise SystemExit(str(error))
    if args.grad_cam:
        written += grad_cam_pictures(model, config, frames, inputs, args, name)
    for path in written:
        print(f'wrote {path}')
    return written


if __name__ == '__main__':
    main()
