"""Lets torch >= 2.6 reload the checkpoints that mmengine saves, without turning off ``weights_only``.

mmengine 0.10.7 calls ``torch.load`` without ``weights_only``; since torch 2.6 that means ``weights_only=True``,
which refuses mmengine's own checkpoints (``--resume``, ``test.py --checkpoint``) because their message hub holds
``HistoryBuffer`` objects with numpy arrays and scalars. We allow-list exactly the globals those checkpoints
hold (measured on checkpoints saved by mmengine's Runner for mmdet, mmseg, mmpose and mmaction2); any other
global is still refused.
"""
from typing import List

import numpy as np
import torch


def mmengine_checkpoint_globals() -> List[object]:
    """The globals an mmengine checkpoint pickles besides tensors and plain containers."""
    from mmengine.logging import HistoryBuffer
    return [
        HistoryBuffer,
        # HistoryBuffer pickles its statistics methods as getattr(HistoryBuffer, name). The weights-only
        # unpickler still calls only allow-listed functions, so what getattr returns cannot be invoked.
        getattr,
        np.ndarray,
        np.dtype,
        np.zeros(1).__reduce__()[0],  # numpy's array reconstructor (module path differs in numpy 1 and 2)
        np.float64(0).__reduce__()[0],  # numpy's scalar constructor
        # The dtype classes of the logged values and of the arrays in ``meta.dataset_meta`` (mmpose keeps
        # keypoint colours as uint8, OKS sigmas as float32, ...): plain type descriptors, nothing callable.
        *(type(np.dtype(t)) for t in (np.float64, np.float32, np.float16, np.int64, np.int32, np.int16, np.int8,
                                      np.uint64, np.uint32, np.uint16, np.uint8, np.bool_)),
    ]


def allow_mmengine_checkpoints() -> None:
    """Adds :func:`mmengine_checkpoint_globals` to torch's weights-only allow-list (idempotent)."""
    if hasattr(torch.serialization, 'add_safe_globals'):
        torch.serialization.add_safe_globals(mmengine_checkpoint_globals())
