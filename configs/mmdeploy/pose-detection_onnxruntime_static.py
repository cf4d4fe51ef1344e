# mmdeploy v1.3.1 configs/mmpose/pose-detection_onnxruntime_static.py with its _base_ chain resolved (mmdeploy's
# pip package does not ship its configs). Top-down pose estimators to ONNX Runtime: heatmaps out, input size fixed
# by the model config's test pipeline.
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
codebase_config = dict(type='mmpose', task='PoseDetection')
backend_config = dict(type='onnxruntime')
