"""ONNX export (uniformer_mm.deployment, tools/deployment/pytorch2onnx.py): one file exported once serves other
batch sizes, frame counts and image sizes (including sizes that are not multiples of 32 or of the window) with
ONNX Runtime outputs equal to PyTorch's. Sizes are the issue's 800x1344 / 800x1216 / 640x960 / 800x1333 divided
by 4, to fit 2 CPU cores; docs/deployment.md has the full-size run."""
import subprocess
import sys

import numpy as np
import onnx
import pytest
import torch
from mmengine.config import Config

from uniformer_mm import UniFormer2D, UniFormer3D
from uniformer_mm.apis import build_model_from_config
from uniformer_mm.deployment import export_onnx

from helpers import ROOT, onnx_runner, randomize_, sharpen_attention_

ort = pytest.importorskip('onnxruntime')
pytestmark = pytest.mark.slow


def assert_onnx_equals_pytorch(path, model, shapes, runtime='onnxruntime'):
    run = onnx_runner(path, runtime)
    for shape in shapes:
        inputs = torch.randn(shape)
        with torch.no_grad():
            expected = model(inputs)
        expected = [expected] if isinstance(expected, torch.Tensor) else list(expected)
        outputs = run(inputs.numpy())
        assert len(outputs) == len(expected)
        for output, reference in zip(outputs, expected):
            reference = reference.numpy()
            assert output.shape == reference.shape, shape
            assert np.abs(output - reference).max() / np.abs(reference).max() < 1e-5, shape


def map_transposes_into_layer_norms(path) -> int:
    """LayerNorms fed by a transpose of a whole (B, C, ...) map: export_onnx rewrites those along axis 1."""
    graph = onnx.load(str(path)).graph
    producers = {output: node for node in graph.node for output in node.output}
    return sum(1 for node in graph.node if node.op_type == 'LayerNormalization'
               and producers.get(node.input[0]) is not None and producers[node.input[0]].op_type == 'Transpose'
               and len(producers[node.input[0]].attribute[0].ints) > 3)


def test_hybrid_backbone_serves_every_size_from_one_file(tmp_path):
    model = UniFormer2D(arch='small', attn_mode='hybrid', window_size=14).eval()
    randomize_(model)
    path = tmp_path / 's_h14.onnx'
    # A 224x224 example has one 14x14 window in stage 3: traced at that size, torch.export would specialise the
    # window count to 1 and the file would be wrong elsewhere (export_onnx traces at a generic size instead).
    export_onnx(model, torch.randn(1, 3, 224, 224), path)
    # Stage 3 at these sizes: 14x21, 13x21 (window padding), 10x15, 13x21 from a width that is not a multiple of 32.
    assert_onnx_equals_pytorch(path, model, [(1, 3, 224, 336), (1, 3, 200, 336), (2, 3, 200, 304), (1, 3, 160, 240),
                                             (1, 3, 200, 333)])
    assert map_transposes_into_layer_norms(path) == 0


def test_input_names_its_dynamic_dimensions(tmp_path):
    path = tmp_path / 'xs.onnx'
    export_onnx(UniFormer2D(arch='small', out_indices=(0, )).eval(), torch.randn(1, 3, 64, 64), path)
    session = ort.InferenceSession(str(path), providers=['CPUExecutionProvider'])
    assert session.get_inputs()[0].shape == ['batch', 3, 'height', 'width']


def test_video_backbone_serves_8_and_16_frames(tmp_path):
    model = UniFormer3D(arch='small').eval()
    randomize_(model)
    path = tmp_path / 's3d.onnx'
    export_onnx(model, torch.randn(1, 3, 8, 64, 64), path)
    assert_onnx_equals_pytorch(path, model, [(1, 3, 8, 64, 64), (2, 3, 16, 64, 96)])
    assert map_transposes_into_layer_norms(path) == 0


# The XXS widths with one block less or more of each kind than XXS has: every kind of token-pruning block (the
# first of stage 3 over all tokens, a pruning one that pools the scores, pruning ones in stage 4) exported at a
# third of XXS's tracing time. The XXS models themselves are exported whole by the tool tests above and by
# tests/demo/test_onnxruntime_demo.py.
LIGHT = dict(depths=(1, 1, 2, 2), embed_dims=(56, 112, 224, 448), head_dim=28, mlp_ratio=3, light=True)


@pytest.mark.long
@pytest.mark.parametrize('model, example, shapes', [
    (lambda: UniFormer2D(arch=LIGHT), (1, 3, 128, 160), [(1, 3, 128, 160), (2, 3, 200, 333), (1, 3, 64, 64)]),
    (lambda: UniFormer3D(arch=LIGHT, with_cls_token=True), (1, 3, 4, 96, 96), [(1, 3, 4, 96, 96), (2, 3, 8, 64, 128)]),
], ids=['2d', '3d'])
def test_light_models_with_token_pruning_export(tmp_path, model, example, shapes):
    model = model().eval()
    randomize_(model)
    sharpen_attention_(model)
    path = tmp_path / 'light.onnx'
    export_onnx(model, torch.randn(example), path)
    assert_onnx_equals_pytorch(path, model, shapes)
    # Distinct token scores (randomized class token): OpenVINO's TopK, which does not keep the order of exact ties,
    # must then keep the same tokens.
    assert_onnx_equals_pytorch(path, model, shapes, runtime='openvino')


def test_an_input_of_another_layout_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r'expected a \(B, C, H, W\)'):
        export_onnx(UniFormer2D(arch='small'), torch.randn(3, 64, 64), tmp_path / 'small.onnx')


def run_tool(*args):
    return subprocess.run([sys.executable, 'tools/deployment/pytorch2onnx.py', *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True)


@pytest.mark.parametrize('config, shapes', [
    # UPerHead's pyramid pooling is adaptive average pooling, exported for any size by uniformer_mm's translation.
    ('configs/mmseg/upernet_uniformer-s-h14_8xb2-160k_ade20k-512x512.py', ['1 3 128 160', '2 3 96 128', '1 3 100 150']),
    ('configs/mmpose/td-hm_uniformer-s_8xb128-210e_coco-256x192.py', ['1 3 128 96', '2 3 192 144']),
    ('configs/mmpretrain/uniformer-small_8xb128_in1k.py', ['1 3 96 96', '2 3 128 160']),
    # The light recognizer (the S one is exported by tests/deployment/test_mmdeploy.py): untrained, its zero class
    # token made the token scores tie, and the docs' command failed at 8 frames.
    ('configs/mmaction/uniformer3d-xxs_in1k-pre_8xb32-u16-110e_kinetics400-rgb-160px.py',
     ['1 3 16 96 96', '2 3 8 96 96']),
], ids=['mmseg-upernet', 'mmpose', 'mmpretrain', 'mmaction-xxs'])
def test_tool_exports_whole_networks_of_shipped_configs(tmp_path, config, shapes):
    example, *others = shapes
    verify = [arg for shape in others for arg in ('--verify-shape', *shape.split())]
    result = run_tool(config, '--part', 'model', '--shape', *example.split(), *verify, '--output-file',
                      tmp_path / 'model.onnx')
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count('relative error') == len(shapes)
    assert 'Failed to reduce inequalities' not in result.stderr, 'the sympy tracebacks are filtered out'


def test_tool_sends_detectors_to_mmdeploy(tmp_path):
    result = run_tool('configs/mmdet/mask-rcnn_uniformer-s-h14_fpn_1x_coco.py', '--part', 'model')
    assert result.returncode != 0 and 'mmdeploy' in result.stderr


def test_tool_fails_on_nan_outputs(tmp_path):
    # A comparison with NaN is never "above --rtol": the tool must see NaN itself and fail, before exporting.
    config = 'configs/mmpretrain/uniformer-small_8xb128_in1k.py'
    model = build_model_from_config(Config.fromfile(ROOT / config))
    state = model.state_dict()
    state['backbone.patch_embed1.proj.bias'] = torch.full_like(state['backbone.patch_embed1.proj.bias'], float('nan'))
    torch.save({'state_dict': state}, tmp_path / 'nan.pth')
    result = run_tool(config, tmp_path / 'nan.pth', '--part', 'backbone', '--shape', '1', '3', '64',
                      '64', '--output-file', tmp_path / 'backbone.onnx')
    assert result.returncode != 0
    assert 'PyTorch output 0 at input (1, 3, 64, 64) holds NaN' in result.stderr, result.stderr[-2000:]
    assert 'nothing was exported' in result.stderr and not (tmp_path / 'backbone.onnx').exists()
