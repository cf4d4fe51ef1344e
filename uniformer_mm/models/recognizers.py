"""mmaction2 recognizer whose MixUp / CutMix blending takes its number of classes from the head.

mmaction2's blendings one-hot encode the labels with their own ``num_classes``; a config that changes only
``model.cls_head.num_classes`` (as mmaction2's fine-tuning guide does) keeps the old count there and training
fails later in ``top_k_accuracy`` with a broadcast error. Here the head's count is the only one a config gives.
This module imports mmaction2: configs list it in ``custom_imports``.
"""
import copy

from mmaction.models.recognizers import Recognizer3D
from mmengine.registry import MODELS


def blending_with_head_classes(blending: dict, num_classes: int) -> dict:
    """A copy of a blending config whose blendings one-hot encode ``num_classes`` classes.

    Args:
        blending (dict): ``data_preprocessor.blending``: one blending (``MixupBlending``, ``CutmixBlending``) or a
            ``RandomBatchAugment`` of them under ``augments``.
        num_classes (int): The head's number of classes.

    Returns:
        dict: The copy, ``num_classes`` filled in where it is left out.

    Raises:
        ValueError: A blending gives a different ``num_classes``.
    """
    blending = copy.deepcopy(blending)
    for augment in blending['augments'] if 'augments' in blending else [blending]:
        given = augment.setdefault('num_classes', num_classes)
        if given != num_classes:
            raise ValueError(
                f"data_preprocessor.blending's {augment.get('type')} one-hot encodes num_classes={given} but "
                f'cls_head predicts {num_classes} classes: leave num_classes out of the blending (it follows '
                'model.cls_head.num_classes) or make the two equal')
    return blending


@MODELS.register_module()
class HeadClassesRecognizer3D(Recognizer3D):
    """mmaction2's ``Recognizer3D`` whose batch blending encodes the head's number of classes.

    A blending in ``data_preprocessor.blending`` that leaves out ``num_classes`` gets ``cls_head.num_classes``, so
    ``--cfg-options model.cls_head.num_classes=2`` (or ``model = dict(cls_head=dict(num_classes=2))`` in a config
    that inherits a recipe) fine-tunes with MixUp / CutMix on 2 classes. A blending that gives a different
    number is refused. Otherwise the same model and checkpoints as ``Recognizer3D``.

    Args:
        backbone (dict): The backbone's config.
        cls_head (dict): The head's config, with ``num_classes``.
        data_preprocessor (dict, optional): ``ActionDataPreprocessor``'s config, with ``blending`` or not.
        **kwargs: ``neck``, ``train_cfg``, ``test_cfg`` of ``Recognizer3D``.
    """

    def __init__(self, backbone: dict, cls_head: dict, data_preprocessor: dict = None, **kwargs) -> None:
        if data_preprocessor is not None and data_preprocessor.get('blending') is not None:
            if not cls_head or 'num_classes' not in cls_head:
                raise ValueError('cls_head needs num_classes: the blending in data_preprocessor takes it from there')
            data_preprocessor = dict(
                data_preprocessor, blending=blending_with_head_classes(data_preprocessor['blending'],
                                                                       cls_head['num_classes']))
        super().__init__(backbone=backbone, cls_head=cls_head, data_preprocessor=data_preprocessor, **kwargs)
