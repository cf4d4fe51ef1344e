# What mmdeploy v1.3.1's configs/_base_/onnx_config.py and configs/_base_/backends/onnxruntime.py set: ONNX opset 11
# from the TorchScript exporter, to ONNX Runtime. The task configs beside this folder add their outputs and axes.
onnx_config = dict(
    type='onnx',
    export_params=True,
    keep_initializers_as_inputs=False,
    opset_version=11,
    save_file='end2end.onnx',
    input_names=['input'],
    output_names=['output'],
    input_shape=None,
    optimize=True)
backend_config = dict(type='onnxruntime')
