"""Image classification end to end with the commands users run: fine-tuning on a class-per-folder dataset from
an ImageNet checkpoint with mim train / mim test, and an official ImageNet classifier converted and evaluated with
mim test and ImageClassificationInferencer, reproducing the release's scores."""
from pathlib import Path

import cv2
import mmengine
import numpy as np
import pytest
import torch
from mmengine.config import Config

from uniformer_mm.apis import build_model_from_config, newest_test_metrics
from uniformer_mm.checkpoint_routes import cache_path
from uniformer_mm.checkpoint_sources import RELEASED_CHECKPOINTS

from helpers import MIM, PYTHON, ROOT, fabricate_official_state_dict, run
from reference_uniformer import RefImageNetUniFormer

pytestmark = pytest.mark.slow  # mim subprocesses
TOY_CONFIG = ROOT / 'configs/mmpretrain/toy/uniformer-small_toy-shapes-96px.py'
IN1K_CONFIG = ROOT / 'configs/mmpretrain/uniformer-small_8xb128_in1k.py'


@pytest.fixture(scope='module')
def official_small(tmp_path_factory) -> Path:
    """A fabricated uniformer_small_in1k.pth in the release's layout, where its download would be cached."""
    torch_home = tmp_path_factory.mktemp('torch_home')
    url = RELEASED_CHECKPOINTS['uniformer_small_in1k'].url
    cached = Path(cache_path(url, str(torch_home / 'hub' / 'uniformer_mm')))
    cached.parent.mkdir(parents=True)
    torch.save(dict(model=fabricate_official_state_dict('image_small_in1k')), cached)
    return cached


def test_fine_tune_on_a_class_folder_dataset_with_mim(tmp_path, official_small):
    run([PYTHON, ROOT / 'tools/dataset_converters/generate_toy_classes.py', 'data/toy_classes',
         '--train', '4', '--val', '3', '--size', '96'], cwd=tmp_path)
    env = dict(TORCH_HOME=str(official_small.parents[2]))
    work_dir = tmp_path / 'work'
    output = run([MIM, 'train', 'mmpretrain', TOY_CONFIG, '--work-dir', work_dir, '--cfg-options',
                  'train_cfg.max_epochs=2', 'train_cfg.val_interval=2', 'train_dataloader.batch_size=4'],
                 cwd=tmp_path, env=env)
    # The backbone came from the ImageNet checkpoint; its 1000-way classifier was left out, and said so.
    assert 'loaded 329 tensors from uniformer_small_in1k' in output
    assert 'unused: head.weight, head.bias' in output
    assert (work_dir / 'epoch_2.pth').exists()
    output = run([MIM, 'test', 'mmpretrain', TOY_CONFIG, '--checkpoint', work_dir / 'epoch_2.pth',
                  '--work-dir', work_dir], cwd=tmp_path, env=env)
    metrics = newest_test_metrics(work_dir)
    assert 'accuracy/top1' in output and 0 <= metrics['accuracy/top1'] <= 100


@pytest.fixture(scope='module')
def imagenet_val(tmp_path_factory):
    """Two images in ImageNet's validation layout (val/ + meta/val.txt) and the release's scores for them."""
    root = tmp_path_factory.mktemp('imagenet')
    (root / 'val').mkdir()
    rng = np.random.default_rng(0)
    lines = []
    for index, size in enumerate([(300, 400), (256, 256)]):
        name = f'ILSVRC2012_val_{index + 1:08d}.JPEG'
        cv2.imwrite(str(root / 'val' / name), rng.integers(0, 256, (*size, 3), dtype=np.uint8))
        lines.append(f'{name} {index}')
    (root / 'meta').mkdir()
    (root / 'meta' / 'val.txt').write_text('\n'.join(lines) + '\n')
    return root


def reference_scores(images, official: dict) -> torch.Tensor:
    """The release's classifier on ``images`` preprocessed as the config's test pipeline does."""
    from mmengine.dataset import Compose
    from mmpretrain.registry import TRANSFORMS  # noqa: F401  (registers the pipeline's transforms)
    cfg = Config.fromfile(str(IN1K_CONFIG))
    pipeline = Compose([dict(t, _scope_='mmpretrain') for t in cfg.test_dataloader.dataset.pipeline])
    preprocessor = build_model_from_config(cfg).data_preprocessor
    packed = [pipeline(dict(img_path=str(image))) for image in images]
    inputs = preprocessor(dict(inputs=[p['inputs'] for p in packed]), training=False)['inputs']
    reference = RefImageNetUniFormer(depths=(3, 4, 8, 3)).eval()
    reference.load_state_dict(official)
    with torch.no_grad():
        return reference(inputs).softmax(dim=1)


def test_official_classifier_converted_then_mim_test_and_inferencer(tmp_path, official_small, imagenet_val):
    converted = tmp_path / 'uniformer-small_in1k.pth'
    output = run([PYTHON, 'tools/convert_checkpoint.py', 'imagenet', official_small, converted,
                  '--config', IN1K_CONFIG])
    assert '1000 classes, fits' in output
    official = torch.load(official_small, weights_only=True)['model']
    images = sorted((imagenet_val / 'val').iterdir())
    expected = reference_scores(images, official)

    predictions = tmp_path / 'predictions.pkl'
    run([MIM, 'test', 'mmpretrain', IN1K_CONFIG, '--checkpoint', converted, '--work-dir', tmp_path / 'work',
         '--out', predictions, '--cfg-options', f'test_dataloader.dataset.data_root={imagenet_val}',
         'test_dataloader.batch_size=2', 'test_dataloader.num_workers=0'], cwd=tmp_path)
    scores = {Path(p['img_path']).name: p['pred_score'] for p in mmengine.load(predictions)}
    for image, row in zip(images, expected):
        torch.testing.assert_close(scores[image.name], row, rtol=1e-5, atol=1e-6)

    from mmpretrain.apis import ImageClassificationInferencer
    inferencer = ImageClassificationInferencer(str(IN1K_CONFIG), pretrained=str(converted), device='cpu')
    result = inferencer(str(images[0]))[0]
    torch.testing.assert_close(torch.as_tensor(result['pred_scores']), expected[0], rtol=1e-5, atol=1e-6)
    from mmpretrain.datasets.categories import IMAGENET_CATEGORIES
    assert result['pred_class'] == IMAGENET_CATEGORIES[int(expected[0].argmax())]
