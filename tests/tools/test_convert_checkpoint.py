"""Official Kinetics checkpoints convert into mmaction2 Recognizer3D checkpoints that mim test can load."""
import subprocess

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from uniformer_mm import CheckpointMismatchError
from uniformer_mm.apis import (build_model_from_config, class_order, openmmlab1_to_openmmlab2, read_class_names,
                               slowfast_video_to_mmaction)

from helpers import PYTHON, ROOT, fabricate_official_state_dict, randomize_, run, sharpen_attention_
from reference_light import RefLightUniFormer

K400_CONFIG = ROOT / 'configs/mmaction/uniformer3d-s_in1k-pre_8xb8-16x4x1-200e_kinetics400-rgb.py'


@pytest.mark.slow
def test_converted_kinetics_checkpoint_is_the_official_classifier(tmp_path):
    official = fabricate_official_state_dict('video_small_k400')
    torch.save(dict(model_state=official, epoch=200, cfg='UNIFORMER:\n  DEPTH: [3, 4, 8, 3]\n'),
               tmp_path / 'k400.pth')
    output = run([PYTHON, 'tools/convert_checkpoint.py', 'slowfast-video', tmp_path / 'k400.pth',
                  tmp_path / 'mmaction.pth'])
    assert 'arch small, 400 classes' in output

    cfg = Config.fromfile(str(K400_CONFIG))
    cfg.model.backbone.init_cfg = None
    from mmaction.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmaction'):
        recognizer = MODELS.build(cfg.model).eval()
    recognizer.load_state_dict(torch.load(tmp_path / 'mmaction.pth')['state_dict'], strict=True)

    clip = torch.randn(1, 3, 8, 64, 64)
    with torch.no_grad():
        features = recognizer.backbone(clip)
        logits = recognizer.cls_head(features)
        expected = features.flatten(2).mean(-1) @ official['head.weight'].T + official['head.bias']
    torch.testing.assert_close(logits, expected, rtol=1e-5, atol=1e-5)


def test_backbone_only_checkpoint_is_refused():
    backbone = fabricate_official_state_dict('detseg_backbone_small')
    with pytest.raises(ValueError, match='no head.weight'):
        slowfast_video_to_mmaction(dict(model_state=backbone))


def test_image_checkpoint_is_refused():
    with pytest.raises(CheckpointMismatchError, match='shape mismatch'):
        slowfast_video_to_mmaction(dict(model=fabricate_official_state_dict('image_small_in1k')))


# mmpose 0.x TopdownHeatmapSimpleHead: three (ConvTranspose2d, BN, ReLU) triples and a 1x1 final conv.
def _old_pose_head(seed: int = 0) -> dict:
    generator = torch.Generator().manual_seed(seed)
    head = {}
    in_channels = 512
    for index in (0, 3, 6):
        head[f'keypoint_head.deconv_layers.{index}.weight'] = torch.randn(in_channels, 256, 4, 4, generator=generator)
        bn = f'keypoint_head.deconv_layers.{index + 1}'
        head.update({f'{bn}.weight': torch.rand(256, generator=generator), f'{bn}.bias': torch.randn(256),
                     f'{bn}.running_mean': torch.randn(256), f'{bn}.running_var': torch.rand(256) + 0.5,
                     f'{bn}.num_batches_tracked': torch.tensor(1000)})
        in_channels = 256
    head['keypoint_head.final_layer.weight'] = torch.randn(17, 256, 1, 1, generator=generator)
    head['keypoint_head.final_layer.bias'] = torch.randn(17, generator=generator)
    return head


def _old_checkpoint(backbone: dict, rest: dict, classes=None) -> dict:
    """An OpenMMLab 1.x checkpoint as mmcv 1.x saved it."""
    meta = dict(mmcv_version='1.3.9', time='Mon Jan 10 12:00:00 2022', epoch=12, iter=87960,
                config='model = dict(...)', hook_msgs=dict(last_ckpt='/path/epoch_12.pth'))
    if classes is not None:
        meta['CLASSES'] = classes
    return dict(meta=meta, state_dict={**{f'backbone.{k}': v for k, v in backbone.items()}, **rest})


def _convert(tmp_path, checkpoint: dict, config: str) -> subprocess.CompletedProcess:
    torch.save(checkpoint, tmp_path / 'old.pth')
    return subprocess.run([PYTHON, 'tools/convert_checkpoint.py', 'openmmlab1', str(tmp_path / 'old.pth'),
                           str(tmp_path / 'new.pth'), '--config', config],
                          cwd=ROOT, capture_output=True, text=True)


@pytest.mark.slow
def test_mmpose0_topdown_checkpoint_converts_and_predicts_the_same_heatmaps(tmp_path):
    config = 'configs/mmpose/td-hm_uniformer-s_8xb128-210e_coco-256x192.py'
    backbone = fabricate_official_state_dict('detseg_backbone_small')
    head = _old_pose_head()
    result = _convert(tmp_path, _old_checkpoint(backbone, head), config)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f'fits {config}' in result.stdout
    assert 'backbone.norm1.weight' in result.stdout + result.stderr  # left out, and said so
    assert 'output norm of a stage not in out_indices' in result.stdout + result.stderr

    model = build_model_from_config(config).eval()
    converted = torch.load(tmp_path / 'new.pth')['state_dict']
    model.load_state_dict(converted, strict=True)
    assert torch.equal(converted['head.deconv_layers.0.weight'], head['keypoint_head.deconv_layers.0.weight'])
    assert torch.equal(converted['head.final_layer.weight'], head['keypoint_head.final_layer.weight'])

    # The heatmaps are the old model's: backbone -> deconvolutions -> 1x1 conv, restated by hand.
    image = torch.randn(1, 3, 256, 192)
    with torch.no_grad():
        heatmaps = model.head.forward(model.backbone(image))
        features = model.backbone(image)[-1]
        for index in (0, 3, 6):
            features = torch.nn.functional.conv_transpose2d(
                features, head[f'keypoint_head.deconv_layers.{index}.weight'], stride=2, padding=1)
            bn = f'keypoint_head.deconv_layers.{index + 1}'
            features = torch.nn.functional.batch_norm(features, head[f'{bn}.running_mean'],
                                                      head[f'{bn}.running_var'], head[f'{bn}.weight'],
                                                      head[f'{bn}.bias']).relu()
        expected = torch.nn.functional.conv2d(features, head['keypoint_head.final_layer.weight'],
                                              head['keypoint_head.final_layer.bias'])
    assert heatmaps.shape == (1, 17, 64, 48)
    torch.testing.assert_close(heatmaps, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize('config, backbone_keys', [
    ('configs/mmdet/mask-rcnn_uniformer-s-h14_fpn_1x_coco.py', 'detseg_backbone_small'),
    ('configs/mmseg/upernet_uniformer-b-h14_8xb2-160k_ade20k-512x512.py', 'detseg_backbone_base'),
])
@pytest.mark.slow
def test_mmdet2_and_mmseg0_checkpoints_convert(tmp_path, config, backbone_keys):
    # The backbone part is the official layout; necks and heads of these models kept their key names in
    # OpenMMLab 2.0, so they are taken from the new model.
    model = build_model_from_config(config)
    randomize_(model)
    rest = {k: v for k, v in model.state_dict().items() if not k.startswith('backbone.')}
    backbone = fabricate_official_state_dict(backbone_keys)
    result = _convert(tmp_path, _old_checkpoint(backbone, rest, classes=('person', 'bicycle')), config)
    assert result.returncode == 0, result.stderr[-3000:]
    converted = torch.load(tmp_path / 'new.pth')
    assert converted['meta']['dataset_meta'] == dict(classes=('person', 'bicycle'))
    for key, value in backbone.items():
        assert torch.equal(converted['state_dict'][f'backbone.{key}'], value), key
    build_model_from_config(config).load_state_dict(converted['state_dict'], strict=True)


@pytest.mark.parametrize('config, arch', [
    ('configs/mmdet/mask-rcnn_uniformer-xxs_fpn_1x_coco.py', 'xxs'),
    ('configs/mmseg/fpn_uniformer-xs_8xb4-80k_ade20k-512x512.py', 'xs'),
])
@pytest.mark.slow
def test_light_mmdet2_and_mmseg0_checkpoints_convert_and_give_the_release_features(tmp_path, config, arch):
    # The light dense backbone in the release's key layout (the oracle's keys are the release's, including the
    # class token and its stage-4 projection), with the new model's neck and heads around it.
    reference = RefLightUniFormer(arch, dense=True).eval()
    randomize_(reference)
    sharpen_attention_(reference)
    model = build_model_from_config(config)
    rest = {k: v for k, v in model.state_dict().items() if not k.startswith('backbone.')}
    result = _convert(tmp_path, _old_checkpoint(reference.state_dict(), rest), config)
    assert result.returncode == 0, result.stderr[-3000:]
    model.load_state_dict(torch.load(tmp_path / 'new.pth')['state_dict'], strict=True)
    image = torch.randn(1, 3, 128, 160)
    with torch.no_grad():
        for actual, expected in zip(model.backbone.eval()(image), reference(image)):
            torch.testing.assert_close(actual, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.slow
def test_old_checkpoint_of_another_model_is_refused_with_the_keys(tmp_path):
    # A base backbone in a small config: shapes match key by key where both exist, the extra blocks do not fit.
    config = 'configs/mmpose/td-hm_uniformer-s_8xb128-210e_coco-256x192.py'
    result = _convert(tmp_path, _old_checkpoint(fabricate_official_state_dict('detseg_backbone_base'),
                                                _old_pose_head()), config)
    assert result.returncode != 0
    assert 'convert_checkpoint.py: error: CheckpointMismatchError:' in result.stderr
    assert 'Traceback' not in result.stderr
    assert 'not in the model: backbone.blocks1.3.' in result.stderr
    assert not (tmp_path / 'new.pth').exists()

    model = build_model_from_config(config)
    with pytest.raises(CheckpointMismatchError, match="keeps its tensors under 'state_dict'"):
        openmmlab1_to_openmmlab2(dict(model=fabricate_official_state_dict('detseg_backbone_small')), model)
    head = _old_pose_head()
    head['keypoint_head.final_layer.weight'] = torch.randn(16, 256, 1, 1)
    with pytest.raises(CheckpointMismatchError, match=r'size mismatch for head.final_layer.weight'):
        openmmlab1_to_openmmlab2(_old_checkpoint(fabricate_official_state_dict('detseg_backbone_small'), head),
                                 model)


LABELS = ROOT / 'tools/data/kinetics'


def test_shipped_kinetics400_label_files_name_the_same_400_classes():
    release = read_class_names(LABELS / 'label_map_k400_uniformer_release.txt')
    mmaction = read_class_names(LABELS / 'label_map_k400.txt')
    assert len(release) == len(mmaction) == 400 and release[:2] == ['riding a bike', 'marching']
    order = class_order(release, mmaction)
    assert sorted(order) == list(range(400)) and mmaction[0] == 'abseiling' and release[order[0]] == 'abseiling'


def test_release_label_file_with_indices(tmp_path):
    (tmp_path / 'indexed.txt').write_text('marching\t1\nriding a bike\t0\n\npetting animal (not cat)\t2\n')
    assert read_class_names(tmp_path / 'indexed.txt') == ['riding a bike', 'marching', 'petting animal (not cat)']
    (tmp_path / 'gap.txt').write_text('marching\t1\nriding a bike\t3\n')
    with pytest.raises(ValueError, match='indices after the names must be 0..1'):
        read_class_names(tmp_path / 'gap.txt')


@pytest.mark.parametrize('content, message', [
    (b'', 'no class names'),
    (b'\n  \n', 'no class names'),
    (b'\xff\xfe\x00binary', r'not UTF-8 text \(byte 0xff at offset 0\); label files are UTF-8'),
    ('abseiling\nair drumming\n'.encode('utf-16'), 'not UTF-8 text'),
    ('caf\u00e9\n'.encode('latin-1'), r'not UTF-8 text \(byte 0xe9 at offset 3\)'),
    (b'x' * (4 << 20) + b'\n', r'more than 4194304 bytes'),
])
def test_unreadable_label_files_are_refused_naming_the_file(tmp_path, content, message):
    (tmp_path / 'labels.txt').write_bytes(content)
    with pytest.raises(ValueError, match=message) as error:
        read_class_names(tmp_path / 'labels.txt')
    assert str(error.value).startswith(str(tmp_path / 'labels.txt'))


def test_byte_order_mark_is_not_part_of_the_first_name(tmp_path):
    (tmp_path / 'labels.txt').write_bytes('abseiling\nair drumming\n'.encode('utf-8-sig'))
    assert read_class_names(tmp_path / 'labels.txt') == ['abseiling', 'air drumming']


def test_terminal_escapes_in_class_names_are_shown_escaped():
    hostile = 'x\x1b[2K\r\x1b]0;title\x07conversion verified OK'
    with pytest.raises(ValueError) as error:
        class_order(['a', 'b'], ['a', hostile])
    assert '\x1b' not in str(error.value) and '\r' not in str(error.value)
    assert 'x\\x1b[2K\\r\\x1b]0;title\\x07conversion verified OK' in str(error.value)


def test_names_match_ignoring_case_quotes_and_underscores():
    assert class_order(['"Riding_A bike"', "massaging person's head", 'zumba'],
                       ['zumba', 'riding a bike', 'massaging_persons_head']) == [2, 0, 1]


@pytest.mark.parametrize('src, dst, message', [
    (['a', 'b', 'c'], ['a', 'b', 'x'], "only in the destination: x; only in the source: c"),
    (['a', 'b'], ['a', 'b', 'c'], r'\(2 source, 3 destination\); only in the destination: c'),
    (['a', 'A', 'b'], ['a', 'b', 'c'], 'the source label file repeats a'),
])
def test_unmatched_names_stop_the_conversion_and_are_listed(src, dst, message):
    with pytest.raises(ValueError, match=message):
        class_order(src, dst)


def _k400_files(tmp_path):
    official = fabricate_official_state_dict('video_small_k400')
    torch.save(dict(model_state=official), tmp_path / 'k400.pth')
    return official


def _convert_video(tmp_path, dst_labels):
    """tools/convert_checkpoint.py slowfast-video from the release's Kinetics-400 order to ``dst_labels``."""
    return subprocess.run([PYTHON, 'tools/convert_checkpoint.py', 'slowfast-video', str(tmp_path / 'k400.pth'),
                           str(tmp_path / 'mm.pth'), '--src-labels',
                           str(LABELS / 'label_map_k400_uniformer_release.txt'), '--dst-labels', str(dst_labels)],
                          cwd=ROOT, capture_output=True, text=True)


@pytest.mark.slow
def test_classifier_rows_follow_the_destination_label_order(tmp_path):
    official = _k400_files(tmp_path)
    result = _convert_video(tmp_path, LABELS / 'label_map_k400.txt')
    assert result.returncode == 0, result.stderr[-2000:]
    assert 'classes reordered by name to' in result.stdout
    converted = torch.load(tmp_path / 'mm.pth')
    release = read_class_names(LABELS / 'label_map_k400_uniformer_release.txt')
    mmaction = read_class_names(LABELS / 'label_map_k400.txt')
    assert converted['meta']['dataset_meta']['classes'] == tuple(mmaction)
    for row, name in enumerate(mmaction):  # each class keeps its own weights, under its mmaction2 index
        source = release.index(name)
        assert torch.equal(converted['state_dict']['cls_head.fc_cls.weight'][row], official['head.weight'][source])
        assert torch.equal(converted['state_dict']['cls_head.fc_cls.bias'][row], official['head.bias'][source])


@pytest.mark.slow
def test_conversion_with_foreign_labels_fails_with_one_line(tmp_path):
    _k400_files(tmp_path)
    (tmp_path / 'other.txt').write_text('\n'.join(f'class {i}' for i in range(400)))
    result = _convert_video(tmp_path, tmp_path / 'other.txt')
    assert result.returncode == 1 and not (tmp_path / 'mm.pth').exists()
    assert result.stderr.startswith('convert_checkpoint.py: error: ValueError: the label files do not name the '
                                    'same classes')
    assert 'only in the destination: class 0, class 1' in result.stderr and 'Traceback' not in result.stderr


def test_label_file_of_another_size_than_the_classifier(tmp_path):
    official = _k400_files(tmp_path)
    (tmp_path / 'few.txt').write_text('a\nb\n')
    with pytest.raises(ValueError, match='names 2 classes, the classifier has 400'):
        slowfast_video_to_mmaction(dict(model_state=official), tmp_path / 'few.txt', tmp_path / 'few.txt')
