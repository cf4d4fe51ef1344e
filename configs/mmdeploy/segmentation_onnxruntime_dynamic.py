# mmdeploy v1.3.1 configs/mmseg/segmentation_onnxruntime_dynamic.py, its _base_ chain folded into
# _base_/onnxruntime.py and this file (mmdeploy's pip package does not ship its configs). Segmentors to ONNX
# Runtime: per-pixel labels out (with_argmax), dynamic batch and image size.
_base_ = ['./_base_/onnxruntime.py']
onnx_config = dict(
    dynamic_axes=dict(
        input={0: 'batch', 2: 'height', 3: 'width'},
        output={0: 'batch', 2: 'height', 3: 'width'}))
codebase_config = dict(type='mmseg', task='Segmentation', with_argmax=True)
