# mmdeploy v1.3.1 configs/mmaction/video-recognition/video-recognition_onnxruntime_static.py, its _base_ chain folded
# into _base_/onnxruntime.py and this file (mmdeploy's pip package does not ship its configs). Recognizers to ONNX
# Runtime: clip-averaged class scores out, input shape fixed by the model config's test pipeline.
_base_ = ['./_base_/onnxruntime.py']
codebase_config = dict(type='mmaction', task='VideoRecognition')
