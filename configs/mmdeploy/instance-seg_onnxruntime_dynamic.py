# mmdeploy v1.3.1 configs/mmdet/instance-seg/instance-seg_onnxruntime_dynamic.py with its _base_ chain resolved
# (mmdeploy's pip package does not ship its configs). Mask R-CNN to ONNX Runtime: NMS in the graph, raw 28x28
# masks out, dynamic batch and image size.
onnx_config = dict(
    type='onnx',
    export_params=True,
    keep_initializers_as_inputs=False,
    opset_version=11,
    save_file='end2end.onnx',
    input_names=['input'],
    output_names=['dets', 'labels', 'masks'],
    input_shape=None,
    optimize=True,
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
backend_config = dict(type='onnxruntime')
