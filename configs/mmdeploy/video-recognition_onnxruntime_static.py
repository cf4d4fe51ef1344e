# mmdeploy v1.3.1 configs/mmaction/video-recognition/video-recognition_onnxruntime_static.py with its _base_ chain
# resolved (mmdeploy's pip package does not ship its configs). Recognizers to ONNX Runtime: clip-averaged class
# scores out, input shape fixed by the model config's test pipeline.
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
codebase_config = dict(type='mmaction', task='VideoRecognition')
backend_config = dict(type='onnxruntime')
