"""Distributed runs on machines without a GPU.

mmengine's ``pytorch`` launcher assumes CUDA: it calls ``torch.cuda.set_device(LOCAL_RANK)`` before
``init_process_group`` and wraps the model in DDP with ``device_ids=[LOCAL_RANK]``, both of which fail on a CPU-only
machine. :func:`prepare_distributed` opens the gloo process group itself (mmengine then keeps it) and selects
:class:`CPUDistributedDataParallel`, so ``tools/dist_train.sh`` runs N processes on the CPU. On GPU machines it
changes nothing and mmengine's own set-up applies (NCCL, one GPU per process, ``sync_bn`` as configured).
"""
import os

import torch
import torch.distributed as dist
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.model import MMDistributedDataParallel, revert_sync_batchnorm
from mmengine.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module()
class CPUDistributedDataParallel(MMDistributedDataParallel):
    """mmengine's DDP wrapper for a model on the CPU: no device ids, and per-process BatchNorm.

    torch's SyncBatchNorm synchronises statistics only on accelerators, so SyncBN layers (those of a config's
    ``norm_cfg``, or made by ``sync_bn``) are turned back into BatchNorm, with a log line saying so.
    """

    def __init__(self, module: torch.nn.Module, **kwargs) -> None:
        kwargs['device_ids'] = None
        # torch's and mmcv's SyncBN share the class name (revert_sync_batchnorm handles both).
        if any(type(m).__name__ == 'SyncBatchNorm' for m in module.modules()):
            print_log('CPU distributed run: SyncBN layers use per-process BatchNorm statistics '
                      '(torch synchronises BatchNorm only on accelerators)', logger='current')
            module = revert_sync_batchnorm(module)
        super().__init__(module=module, **kwargs)


def prepare_distributed(cfg: Config, launcher: str) -> None:
    """Make ``cfg`` runnable under ``launcher`` on this machine (in place).

    Args:
        cfg: The runner config; ``launcher`` is stored in it.
        launcher: ``'none'`` or a launcher mmengine knows (``'pytorch'``, ``'slurm'``, ``'mpi'``).
    """
    cfg.launcher = launcher
    if launcher == 'none' or torch.cuda.is_available():
        return
    if launcher != 'pytorch':
        raise ValueError(f"CPU-only distributed runs support launcher 'pytorch' (torchrun), got {launcher!r}")
    if 'LOCAL_RANK' not in os.environ:
        raise RuntimeError("launcher 'pytorch' expects the environment torchrun sets (RANK, LOCAL_RANK, "
                           'WORLD_SIZE, MASTER_ADDR, MASTER_PORT); start the script through tools/dist_train.sh')
    if not dist.is_initialized():
        dist.init_process_group(backend='gloo')
    # What mmengine builds by default (broadcast_buffers off, find_unused_parameters from the config).
    wrapper = dict(type='CPUDistributedDataParallel', broadcast_buffers=False,
                   find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper.update(cfg.get('model_wrapper_cfg') or {})
    cfg.model_wrapper_cfg = wrapper
