# mmdeploy v1.3.1 configs/mmseg/segmentation_onnxruntime_dynamic.py with its _base_ chain resolved (mmdeploy's pip
# package does not ship its configs). Segmentors to ONNX Runtime: per-pixel labels out (with_argmax), dynamic batch
# and image size.
onnx_config = dict(
    type='onnx',
    export_params=True,
    keep_initializers_as_inputs=False,
    opset_version=11,
    save_file='end2end.onnx',
    input_names=['input'],
    output_names=['output'],
    input_shape=None,
    optimize=True,
    dynamic_axes=dict(
        input={0: 'batch', 2: 'height', 3: 'width'},
        output={0: 'batch', 2: 'height', 3: 'width'}))
codebase_config = dict(type='mmseg', task='Segmentation', with_argmax=True)
backend_config = dict(type='onnxruntime')
