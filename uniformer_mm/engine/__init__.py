from .distributed import CPUDistributedDataParallel, prepare_distributed

__all__ = ['CPUDistributedDataParallel', 'prepare_distributed']
