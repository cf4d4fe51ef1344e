# mmdeploy v1.3.1 configs/mmpose/pose-detection_onnxruntime_static.py, its _base_ chain folded into
# _base_/onnxruntime.py and this file (mmdeploy's pip package does not ship its configs). Top-down pose estimators
# to ONNX Runtime: heatmaps out, input size fixed by the model config's test pipeline.
_base_ = ['./_base_/onnxruntime.py']
codebase_config = dict(type='mmpose', task='PoseDetection')
