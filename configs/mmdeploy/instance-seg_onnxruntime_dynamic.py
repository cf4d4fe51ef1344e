# mmdeploy v1.3.1 configs/mmdet/instance-seg/instance-seg_onnxruntime_dynamic.py, its _base_ chain folded into
# _base_/onnxruntime.py and this file (mmdeploy's pip package does not ship its configs). Mask R-CNN to ONNX
# Runtime: NMS in the graph, raw 28x28 masks out, dynamic batch and image size.
_base_ = ['./_base_/onnxruntime.py']
onnx_config = dict(
    output_names=['dets', 'labels', 'masks'],
    dynamic_axes=dict(
        input={0: 'batch', 2: 'height', 3: 'width'},
        dets={0: 'batch', 1: 'num_dets'},
        labels={0: 'batch', 1: 'num_dets'},
        masks={0: 'batch', 1: 'num_dets', 2: 'height', 3: 'width'}))
codebase_config = dict(
    type='mmdet',
    task='ObjectDetection',
    model_type='end2end',
    post_processing=dict(
        score_threshold=0.05,
        confidence_threshold=0.005,
        iou_threshold=0.5,
        max_output_boxes_per_class=200,
        pre_top_k=5000,
        keep_top_k=100,
        background_label_id=-1,
        export_postprocess_mask=False))
