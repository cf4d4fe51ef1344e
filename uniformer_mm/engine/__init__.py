from .cpu_amp import CPUAmpOptimWrapper
from .distributed import CPUDistributedDataParallel, prepare_distributed

__all__ = ['CPUAmpOptimWrapper', 'CPUDistributedDataParallel', 'prepare_distributed']
