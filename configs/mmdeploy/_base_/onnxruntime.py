# What mmdeploy v1.3.1's configs/_base_/onnx_config.py and configs/_base_/backends/onnxruntime.py set: ONNX opset 11
# from the TorchScript exporter, to ONNX Runtime. The task configs beside this folder add their outputs and axes.
# The one addition: mmdeploy's tools load this config with mmengine, which imports `custom_imports`, so that our
# rewriters (uniformer_mm/deployment/mmdeploy_compat.py, what mmdeploy 1.3.1 needs under the installed torch) are
# registered for the conversion, whatever was imported first.
custom_imports = dict(imports=['uniformer_mm.deployment.mmdeploy_compat'], allow_failed_imports=False)
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
