"""tools/deployment/quantize_int8.py: int8 post-training quantization of a config's backbone, calibrated on the
config's training data, by NNCF (OpenVINO) and by ONNX Runtime."""
import sys

import numpy as np
import pytest
import torch

from uniformer_mm.apis import build_model_from_config

from helpers import PYTHON, ROOT, load_script, onnx_runner, run

# S-h14, not XXS: an untrained light model's token scores nearly tie, so which tokens its int8 copy keeps, and so its
# stage-3 error (0.1 to 0.57 here, depending on the export's graph and the draw), is a matter of tie-breaking.
# The light models' int8 is measured where it means something, on a trained XXS (tests/e2e/test_precision_parity.py).
CONFIG = ROOT / 'configs/mmseg/toy/fpn_uniformer-s-h14_toy-shapes-160x160.py'


@pytest.fixture(scope='module')
def toy_checkpoint(tmp_path_factory):
    """The S-h14 segmentation toy config's data, and its model's initial weights as a checkpoint."""
    root = tmp_path_factory.mktemp('int8')
    run([PYTHON, ROOT / 'tools/dataset_converters/generate_toy_dense.py', 'ade', 'data/toy_dense/ade', '--train', '8',
         '--val', '2', '--size', '96'], cwd=root)
    torch.manual_seed(0)
    torch.save(dict(state_dict=build_model_from_config(str(CONFIG)).state_dict()), root / 'model.pth')
    return root


@pytest.mark.slow
@pytest.mark.long
@pytest.mark.parametrize('backend, suffix', [('openvino', '.xml'), ('onnxruntime', '.onnx')])
def test_quantizes_the_backbone_and_verifies_it_against_float32(toy_checkpoint, backend, suffix):
    output_file = toy_checkpoint / f'int8/backbone{suffix}'
    output = run([PYTHON, ROOT / 'tools/deployment/quantize_int8.py', CONFIG, 'model.pth', '--backend', backend,
                  '--calibration-samples', '4', '--verify-samples', '2', '--output-file', output_file],
                 cwd=toy_checkpoint)
    assert output_file.exists()
    assert 'calibrated on 4 training samples' in output and '; int8: ' in output  # what the CPU runs natively
    assert output.count('relative error per output') == 2
    assert depthwise_inputs(output_file) == {'float'}  # see quantize_openvino: no int8 rounding on the residuals
    # a file of dynamic sizes runs at sizes other than the calibration images' (NNCF's per-row ranges did not)
    run_file = onnx_runner(output_file, backend)
    for height, width in ((64, 96), (160, 128)):
        outputs = run_file(torch.randn(1, 3, height, width).numpy())
        assert [output.shape[-2:] for output in outputs] == [(height // 4, width // 4), (height // 8, width // 8),
                                                             (height // 16, width // 16), (height // 32, width // 32)]
        assert all(np.isfinite(output).all() for output in outputs)


def depthwise_inputs(path) -> set:
    """How the quantized file's depthwise convolutions receive their input: 'int8' (from a quantizer, through any
    transposes and reshapes) or 'float'."""
    layout_ops = ('Transpose', 'Reshape')
    if path.suffix == '.xml':
        import openvino
        model = openvino.Core().read_model(str(path))
        kinds = set()
        for op in model.get_ordered_ops():
            if op.get_type_name() == 'GroupConvolution':
                source = op.input_value(0).get_node()
                while source.get_type_name() in layout_ops:
                    source = source.input_value(0).get_node()
                kinds.add('int8' if source.get_type_name() == 'FakeQuantize' else 'float')
        return kinds
    import onnx
    graph = onnx.load(str(path)).graph
    producers = {output: node for node in graph.node for output in node.output}
    kinds = set()
    for node in graph.node:
        if node.op_type == 'Conv' and any(a.name == 'group' and a.i > 1 for a in node.attribute):
            source = producers.get(node.input[0])
            while source is not None and source.op_type in layout_ops:
                source = producers.get(source.input[0])
            kinds.add('int8' if source is not None and source.op_type == 'DequantizeLinear' else 'float')
    return kinds


def test_the_output_file_must_match_the_backend(tmp_path, monkeypatch):
    # In this process (the refusal comes before any work): a subprocess would spend 4 s importing the stack.
    tool = load_script(ROOT / 'tools/deployment/quantize_int8.py')
    monkeypatch.setattr(sys, 'argv', ['quantize_int8.py', str(CONFIG), 'model.pth', '--output-file',
                                      str(tmp_path / 'model.onnx')])
    with pytest.raises(SystemExit, match='--backend openvino writes a .xml file'):
        tool.main()
