"""A learning-rate schedule whose warm-up is a share of the training, so that shortening a recipe keeps it valid.

The recipes warm up linearly for a number of epochs and then anneal with a cosine. Written as mmengine's
``LinearLR(end=5)`` + ``CosineAnnealingLR(begin=5)``, a fine-tune shortened with ``train_cfg.max_epochs=3`` fails
(``end should be larger than begin``) or never leaves the warm-up. :class:`WarmupCosineLR` is the same curve as
one scheduler: its ``end`` defaults to the training's length (the runner fills it in), and the warm-up takes
``warmup_ratio`` of it, so the published schedules are unchanged and a short one warms up for the same share.
"""
import math

from mmengine.optim.scheduler.lr_scheduler import LRSchedulerMixin
from mmengine.optim.scheduler.param_scheduler import INF, _ParamScheduler
from mmengine.registry import PARAM_SCHEDULERS


class WarmupCosineParamScheduler(_ParamScheduler):
    """Linear warm-up over the first ``warmup_ratio`` of [begin, end), then cosine annealing to ``eta_min``.

    Args:
        optimizer (Optimizer or OptimWrapper): The wrapped optimizer.
        param_name (str): The parameter to schedule, e.g. ``'lr'``.
        warmup_ratio (float): Share of the schedule spent warming up, in [0, 1): 5 / 300 is 5 warm-up epochs of a
            300-epoch recipe, and 0.1 epoch of a 6-epoch fine-tune.
        start_factor (float): The value at the first step, as a factor of the optimizer's. Defaults to 1e-3.
        eta_min (float): The value at the end of the cosine. Defaults to 0.
        begin (int): Step at which the schedule starts. Defaults to 0.
        end (int): Step at which it ends; mmengine's runner sets it to the training's length when the config leaves
            it out. Must be finite.
        last_step (int): The index of the last step, to resume without a state dict. Defaults to -1.
        by_epoch (bool): Whether ``begin`` and ``end`` count epochs. With ``convert_to_iter_based=True`` in the
            config the value changes every iteration. Defaults to True.
        verbose (bool): Whether to log every update. Defaults to False.
    """

    def __init__(self,
                 optimizer,
                 param_name: str,
                 warmup_ratio: float,
                 start_factor: float = 1e-3,
                 eta_min: float = 0.,
                 begin: int = 0,
                 end: int = INF,
                 last_step: int = -1,
                 by_epoch: bool = True,
                 verbose: bool = False):
        if not 0 <= warmup_ratio < 1:
            raise ValueError(f'warmup_ratio is the share of the schedule spent warming up, in [0, 1); got '
                             f'{warmup_ratio}')
        if not 0 < start_factor <= 1:
            raise ValueError(f'start_factor must be in (0, 1], got {start_factor}')
        if end == INF:
            raise ValueError(f'{type(self).__name__} needs a finite end: leave end out of the config (the runner '
                             'sets it to the training length) or give the step at which the cosine reaches eta_min')
        self.warmup_ratio = warmup_ratio
        self.start_factor = start_factor
        self.eta_min = eta_min
        super().__init__(optimizer, param_name, begin=begin, end=end, last_step=last_step, by_epoch=by_epoch,
                         verbose=verbose)

    @classmethod
    def build_iter_from_epoch(cls, *args, begin=0, end=INF, by_epoch=True, epoch_length=None, **kwargs):
        """Build an iteration-based instance from epoch-based ``begin`` and ``end``."""
        if not by_epoch:
            raise ValueError('convert_to_iter_based needs by_epoch=True')
        if not epoch_length or epoch_length <= 0:
            raise ValueError(f'epoch_length must be a positive integer, got {epoch_length}')
        end = INF if end == INF else int(end * epoch_length)
        return cls(*args, begin=int(begin * epoch_length), end=end, by_epoch=False, **kwargs)

    def _get_value(self):
        """The closed form at ``last_step`` (steps since ``begin``), from each group's initial value."""
        total = self.end - self.begin
        warmup = self.warmup_ratio * total
        step = self.last_step
        if step < warmup:
            # reaches the optimizer's value at the last warm-up step, as mmengine's LinearLR does
            factor = self.start_factor + (1 - self.start_factor) * min(step / max(warmup - 1, 1), 1.)
            return [base * factor for base in self.base_values]
        progress = (step - warmup) / max(total - warmup, 1)
        cosine = (1 + math.cos(math.pi * min(progress, 1.))) / 2
        return [self.eta_min + (base - self.eta_min) * cosine for base in self.base_values]


@PARAM_SCHEDULERS.register_module()
class WarmupCosineLR(LRSchedulerMixin, WarmupCosineParamScheduler):
    """:class:`WarmupCosineParamScheduler` of the learning rate.

    In a config: ``param_scheduler = dict(type='WarmupCosineLR', warmup_ratio=5 / 300, start_factor=1e-3,
    eta_min=1e-5, by_epoch=True, convert_to_iter_based=True)`` with ``uniformer_mm.engine.schedulers`` in
    ``custom_imports``.
    """
