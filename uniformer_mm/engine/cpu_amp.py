"""Mixed-precision training on a CPU.

mmengine's ``AmpOptimWrapper`` asserts that a GPU, NPU, MLU or MUSA is present, so a config with
``optim_wrapper=dict(type='AmpOptimWrapper', ...)`` cannot train on a CPU at all, although CPUs with AMX or
AVX512-BF16 compute bfloat16 natively (UniFormer-S trains 1.1-1.35x faster in it than in float32 on such a CPU,
docs/training.md). :class:`CPUAmpOptimWrapper` is mmengine's plain
``OptimWrapper`` with its forward passes under ``torch.autocast('cpu')``; a shipped config switches to it with
``--cfg-options optim_wrapper.type=CPUAmpOptimWrapper``.
"""
import logging
from contextlib import contextmanager
from typing import Optional, Union

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.optim import OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS

CAST_DTYPES = {'bfloat16': torch.bfloat16, 'float16': torch.float16}


@OPTIM_WRAPPERS.register_module()
class CPUAmpOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose ``optim_context`` (the model's forward and loss) runs under CPU autocast.

    Parameters, gradients and the optimizer's state stay float32; autocast runs matrix products and convolutions
    in ``dtype``. Gradient accumulation (``accumulative_counts``, ``no_sync``) and ``clip_grad`` behave as in
    ``OptimWrapper``. Validation and testing do not go through ``optim_context`` and run in float32.

    Args:
        dtype: ``'bfloat16'`` (default) or ``'float16'``, or the torch dtype. ``None`` (what ``AmpOptimWrapper``
            takes as "autocast's default") means ``'bfloat16'``, the CPU's autocast default.
        loss_scale: ``AmpOptimWrapper``'s argument, accepted so that a config written for it (the shipped ones
            set ``loss_scale='dynamic'``) runs after changing only the type. With ``'bfloat16'`` it is checked
            and ignored: bfloat16 has float32's exponent range, so gradients do not underflow and need no scaling;
            a value other than ``'dynamic'`` is logged as ignored. With ``'float16'`` it configures
            ``torch.amp.GradScaler('cpu')`` as ``AmpOptimWrapper`` configures its scaler: ``'dynamic'`` for the
            default dynamic scale, a float for a static scale, a dict for the scaler's keyword arguments.
        **kwargs: ``OptimWrapper``'s arguments (``optimizer``, ``accumulative_counts``, ``clip_grad``).

    Raises:
        ValueError: ``dtype`` is neither bfloat16 nor float16.
        TypeError: ``loss_scale`` is not ``'dynamic'``, a float or a dict.
        RuntimeError: (in ``optim_context``) the model's parameters are not on the CPU, where CPU autocast would
            leave the computation in float32 without a word; use ``AmpOptimWrapper`` on accelerators.
    """

    def __init__(self, dtype: Union[str, torch.dtype, None] = 'bfloat16',
                 loss_scale: Union[str, float, dict] = 'dynamic', **kwargs) -> None:
        super().__init__(**kwargs)
        names = {v: k for k, v in CAST_DTYPES.items()}
        name = 'bfloat16' if dtype is None else names.get(dtype, dtype)
        if name not in CAST_DTYPES:
            raise ValueError(f"CPUAmpOptimWrapper: dtype must be one of {', '.join(map(repr, CAST_DTYPES))} "
                             f'(or the torch dtypes), got {dtype!r}')
        if not (loss_scale == 'dynamic' or isinstance(loss_scale, (float, dict))):
            raise TypeError(f"loss_scale must be 'dynamic', a float or a dict, got {loss_scale!r}")
        self.cast_dtype = CAST_DTYPES[name]
        self.loss_scaler: Optional[torch.amp.GradScaler] = None
        self._scale_update_param: Optional[float] = None
        self._announced = False
        if self.cast_dtype is torch.float16:
            # float16 overflows above 65504 and flushes small gradients to zero: scale the loss.
            if isinstance(loss_scale, float):
                self._scale_update_param = loss_scale  # a static scale: update() keeps it
                self.loss_scaler = torch.amp.GradScaler('cpu', init_scale=loss_scale)
            else:
                self.loss_scaler = torch.amp.GradScaler('cpu', **(loss_scale if isinstance(loss_scale, dict) else {}))
        elif loss_scale != 'dynamic':
            print_log(f'CPUAmpOptimWrapper: loss_scale={loss_scale!r} is ignored with bfloat16, which needs no loss '
                      'scaling', logger='current')

    def backward(self, loss: torch.Tensor, **kwargs) -> None:
        if self.loss_scaler is None:
            super().backward(loss, **kwargs)
            return
        self.loss_scaler.scale(loss).backward(**kwargs)
        self._inner_count += 1

    def step(self, **kwargs) -> None:
        if self.loss_scaler is None:
            super().step(**kwargs)
            return
        if self.clip_grad_kwargs:
            self.loss_scaler.unscale_(self.optimizer)  # clip the true gradients, not the scaled ones
            self._clip_grad()
        self.loss_scaler.step(self.optimizer, **kwargs)  # skips the step on inf/NaN gradients
        self.loss_scaler.update(self._scale_update_param)

    def state_dict(self) -> dict:
        """The optimizer's state (as ``OptimWrapper``), plus the GradScaler's under ``'loss_scaler'`` with
        float16, as ``AmpOptimWrapper`` saves it."""
        state_dict = super().state_dict()
        if self.loss_scaler is not None:
            state_dict['loss_scaler'] = self.loss_scaler.state_dict()
        return state_dict

    def load_state_dict(self, state_dict: dict) -> None:
        """Loads :meth:`state_dict`'s output; with float16 also an ``AmpOptimWrapper`` checkpoint's scaler."""
        if self.loss_scaler is not None and 'loss_scaler' in state_dict:
            state_dict = dict(state_dict)
            self.loss_scaler.load_state_dict(state_dict.pop('loss_scaler'))
        super().load_state_dict(state_dict)

    @contextmanager
    def optim_context(self, model: nn.Module):
        """``OptimWrapper``'s context (``no_sync`` while accumulating gradients) under CPU autocast."""
        if not self._announced:
            devices = {p.device.type for p in model.parameters()}
            if devices - {'cpu'}:
                raise RuntimeError(f'CPUAmpOptimWrapper autocasts on the CPU only, but the model has parameters on '
                                   f"{', '.join(sorted(devices))}: use AmpOptimWrapper on accelerators")
            self._announce()
            self._announced = True
        with super().optim_context(model), torch.autocast('cpu', dtype=self.cast_dtype):
            yield

    def _announce(self) -> None:
        """Logs the autocast dtype once, and whether this CPU computes it natively (as docs/precision.md's tools
        do): without AMX / AVX512 instructions for it, oneDNN emulates it, slower than float32."""
        # Imported here: `import uniformer_mm` (which registers this class) does not import uniformer_mm.apis.
        from uniformer_mm.apis.precision import NATIVE_INSTRUCTIONS, native_instructions
        precision = 'bf16' if self.cast_dtype is torch.bfloat16 else 'fp16'
        native = native_instructions(precision)
        message = (f"CPUAmpOptimWrapper: training steps run under torch.autocast('cpu', dtype={self.cast_dtype})"
                   + (' with a GradScaler' if self.loss_scaler is not None else ''))
        if native:
            print_log(f"{message}, native on this CPU ({', '.join(native)})", logger='current')
        elif native is None:
            print_log(f'{message}; whether this CPU runs it natively is unknown (no /proc/cpuinfo)', logger='current')
        else:
            flags = ', '.join(flag for flag, _ in NATIVE_INSTRUCTIONS[precision])
            print_log(f'{message}, but this CPU has none of {flags}: it is emulated, slower than float32 training',
                      logger='current', level=logging.WARNING)
