"""Post-training int8 quantization of a config's backbone, calibrated on the config's own training data.

The backbone (weights from CHECKPOINT, folded by ``switch_to_deploy``) is exported to ONNX with dynamic sizes,
then quantized by NNCF into an OpenVINO model (``--backend openvino``, the default: the faster int8 path on the
CPUs measured, docs/benchmarks.md) or by ONNX Runtime's static quantization into a QDQ ONNX file
(``--backend onnxruntime``). Calibration takes ``--calibration-samples`` training samples through the config's
test pipeline (resize, normalisation: what inference sees), never the evaluated split. Convolutions and matmuls
run in int8; LayerNorm, softmax, GELU and the light models' class-token scores stay in higher precision.

The tool then runs ``--verify-samples`` other training samples through the quantized model and through PyTorch in
float32 and prints the relative error per output (max |int8 - fp32| / max |fp32|). It fails on NaN or where the
error exceeds ``--rtol``. ``tools/test.py --precision int8 --backend openvino`` evaluates the task metric.

Example:
    python tools/deployment/quantize_int8.py configs/mmseg/toy/fpn_uniformer-xxs_toy-shapes-160x160.py \
        work_dirs/seg/iter_240.pth --output-file work_dirs/int8/seg_backbone.xml
"""
import argparse
import copy
import tempfile
from pathlib import Path

import torch
from mmengine.config import Config
from mmengine.runner import load_checkpoint

import uniformer_mm  # noqa: F401  (registers the backbones and the safe checkpoint loader)
from uniformer_mm.apis import build_model_from_config
from uniformer_mm.apis.precision import (calibration_dataloader, collect_backbone_inputs, compile_openvino,
                                         describe_cpu_support, quantize_onnxruntime, quantize_openvino)
from uniformer_mm.deployment import export_onnx, relative_errors


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='a config of configs/ (any codebase) whose training data is on disk')
    parser.add_argument('checkpoint', help='trained weights of the whole model')
    parser.add_argument('--backend', choices=('openvino', 'onnxruntime'), default='openvino')
    parser.add_argument('--calibration-samples', type=int, default=32)
    parser.add_argument('--verify-samples', type=int, default=4)
    parser.add_argument('--rtol', type=float, default=0.3,
                        help='largest relative error accepted per output (a max-error bound; the task metric is '
                        'what counts: tools/test.py --precision int8)')
    parser.add_argument('--output-file', help='default: work_dirs/int8/{config name}_backbone.{xml,onnx}')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    suffix = '.xml' if args.backend == 'openvino' else '.onnx'
    output_file = Path(args.output_file or f'work_dirs/int8/{Path(args.config).stem}_backbone{suffix}')
    if output_file.suffix != suffix:
        raise SystemExit(f'--backend {args.backend} writes a {suffix} file; got --output-file {output_file}')
    cfg = Config.fromfile(args.config)
    model = build_model_from_config(cfg)
    load_checkpoint(model, args.checkpoint, map_location='cpu', strict=True)
    model.eval()
    print(describe_cpu_support())
    total = args.calibration_samples + args.verify_samples
    inputs = collect_backbone_inputs(model, calibration_dataloader(cfg, total), total)
    if len(inputs) <= args.verify_samples:
        raise SystemExit(f'the training data gave {len(inputs)} samples; need more than --verify-samples')
    calibration, verification = inputs[:-args.verify_samples], inputs[-args.verify_samples:]
    backbone = copy.deepcopy(model.backbone)
    backbone.switch_to_deploy()
    with tempfile.TemporaryDirectory() as work_dir:
        onnx_file = Path(work_dir) / 'backbone.onnx'
        export_onnx(backbone, calibration[0], onnx_file)
        if args.backend == 'openvino':
            import openvino
            output_file.parent.mkdir(parents=True, exist_ok=True)
            core = openvino.Core()
            quantized = quantize_openvino(core.read_model(str(onnx_file)), calibration)
            openvino.save_model(quantized, str(output_file))
            # Verified as OpenVINOBackbone runs it (the unquantized rest in bf16 where the CPU has it).
            compiled = compile_openvino(core, core.read_model(str(output_file)), 'int8')

            def run(x):
                return list(compiled(x).values())
        else:
            import onnxruntime
            output_file.parent.mkdir(parents=True, exist_ok=True)
            quantize_onnxruntime(onnx_file, output_file, calibration)
            session = onnxruntime.InferenceSession(str(output_file), providers=['CPUExecutionProvider'])

            def run(x):
                return session.run(None, {session.get_inputs()[0].name: x})
    print(f'wrote {output_file}, calibrated on {len(calibration)} training samples')
    worst = 0.
    for index, sample in enumerate(verification):
        with torch.no_grad():
            expected = backbone(sample)
        expected = [expected] if isinstance(expected, torch.Tensor) else list(expected)
        outputs = run(sample.numpy())
        try:
            errors = relative_errors(outputs, expected)
        except ValueError as error:
            raise SystemExit(f'int8 against float32 on verification sample {index}: {error}')
        worst = max(worst, *errors)
        print(f'sample {index} {list(sample.shape)}: relative error per output ' + ' '.join(f'{e:.1e}' for e in errors))
    if worst > args.rtol:
        raise SystemExit(f'int8 and float32 differ by {worst:.1e} > --rtol {args.rtol:.0e}')


if __name__ == '__main__':
    main()
