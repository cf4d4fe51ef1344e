"""UniFormer backbones for OpenMMLab 2.0.

Importing this package (``custom_imports=dict(imports=['uniformer_mm'])`` in a config) changes these things
outside its own classes, and nothing else:

- registers the backbones in mmengine's root ``MODELS`` registry, visible from mmdet, mmseg, mmpose, mmpretrain
  and mmaction2, ``CPUDistributedDataParallel`` in its ``MODEL_WRAPPERS`` and ``CPUAmpOptimWrapper`` (bfloat16
  training on a CPU) in its ``OPTIM_WRAPPERS`` (:mod:`uniformer_mm.engine`). What only some configs need
  registers when they import it (``custom_imports``): the heads (:mod:`uniformer_mm.models.heads`), the video
  recognizer whose mixup / cutmix take the head's class count (:mod:`uniformer_mm.models.recognizers`) and the
  warm-up-then-cosine learning rate (:mod:`uniformer_mm.engine.schedulers`);
- the checkpoint policy: routes every prefix of mmengine's ``CheckpointLoader`` (local paths, http(s),
  ``open-mmlab://`` and the other model-zoo prefixes, ``s3://``) through the checkpoint reader of
  :mod:`uniformer_mm.checkpoint_safety`, and replaces ``CheckpointLoader.load_checkpoint`` with one that refuses
  prefixes registered later by other code (:mod:`uniformer_mm.checkpoint_routes`). This applies to every
  checkpoint mmengine loads in the process, not only UniFormer's. The opt-out:
  ``uniformer_mm.checkpoint_routes.restore_mmengine_loaders()`` gives mmengine its own loaders back;
- adds a formula for ``scaled_dot_product_attention`` to mmengine's private FLOP table
  ``_DEFAULT_SUPPORTED_FLOP_OPS``, only for the mmengine releases whose table was read and only where the table
  has none (:mod:`uniformer_mm.analysis`).

It does not touch mmdeploy: the rewriters that mmdeploy conversions need
(:mod:`uniformer_mm.deployment.mmdeploy_compat`) are imported by the deploy configs of ``configs/mmdeploy/``
through their ``custom_imports``.
"""
from . import engine  # noqa: F401  (registers CPUDistributedDataParallel for configs' model_wrapper_cfg)
from .analysis import register_attention_flops
from .checkpoint_routes import install_checkpoint_loaders
from .checkpoint_safety import CheckpointFileError
from .models import CheckpointMismatchError, UniFormer2D, UniFormer3D
from .version import __version__

__all__ = ['UniFormer2D', 'UniFormer3D', 'CheckpointMismatchError', 'CheckpointFileError', '__version__']

install_checkpoint_loaders()
register_attention_flops()
