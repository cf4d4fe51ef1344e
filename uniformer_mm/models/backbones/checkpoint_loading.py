"""Loading official UniFormer checkpoints, as released, into the backbones.

Accepted forms: ImageNet checkpoints (``{'model': state_dict}``), PySlowFast video checkpoints
(``{'model_state': state_dict}``), OpenMMLab checkpoints (``{'state_dict': ...}``) of a whole downstream model
(only its ``backbone.`` part is taken) or of the backbone alone, and bare state dicts; ``module.`` prefixes
left by DistributedDataParallel are removed.

Loading is strict: every tensor of the checkpoint must fit the model, and every key the model lacks or the
checkpoint leaves unused must be one the backbone can explain (such as the ImageNet classifier). The rest
raises :class:`CheckpointMismatchError`, which names the keys and what the checkpoint's layout looks like.
"""
import re
from typing import Callable, Dict, List, Mapping, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.runner import CheckpointLoader

from ...checkpoint_safety import printable
from ...checkpoint_sources import known_checkpoint, resolve_checkpoint

_WRAPPER_KEYS = ('state_dict', 'model', 'model_state')
_MAX_LISTED = 12


class CheckpointMismatchError(ValueError):
    """A checkpoint whose tensors do not fit the backbone."""


def extract_state_dict(checkpoint: Mapping) -> Tuple[Dict[str, torch.Tensor], List[str]]:
    """Returns the backbone state dict inside a released checkpoint, and notes on what was taken off.

    Args:
        checkpoint (Mapping): What ``torch.load`` returned.
    """
    if not isinstance(checkpoint, Mapping):
        raise CheckpointMismatchError(f'a checkpoint must be a dict, got {type(checkpoint).__name__}')
    notes = []
    state_dict = checkpoint
    for key in _WRAPPER_KEYS:
        if key in checkpoint and isinstance(checkpoint[key], Mapping):
            state_dict = checkpoint[key]
            notes.append(f"took the state dict under '{key}'")
            break
    non_tensors = [k for k, v in state_dict.items() if not isinstance(v, torch.Tensor)]
    if non_tensors:
        raise CheckpointMismatchError(
            f'no state dict found: expected tensors at the top level or under one of {_WRAPPER_KEYS}, '
            f'got non-tensor entries {format_keys(non_tensors)}')
    if any(k.startswith('module.') for k in state_dict):
        state_dict = {k[len('module.'):] if k.startswith('module.') else k: v for k, v in state_dict.items()}
        notes.append("removed the 'module.' prefix")
    backbone = {k[len('backbone.'):]: v for k, v in state_dict.items() if k.startswith('backbone.')}
    if backbone:
        others = len(state_dict) - len(backbone)
        notes.append(f"took the {len(backbone)} 'backbone.' tensors of a downstream model "
                     f'and left its {others} other tensors (neck, heads) to it')
        state_dict = backbone
    return dict(state_dict), notes


def read_depths(state_dict: Mapping[str, torch.Tensor]) -> Tuple[int, ...]:
    """The number of blocks of each of the four stages in a UniFormer state dict (0 where a stage is absent)."""
    depths = []
    for stage in range(1, 5):
        indices = {int(m.group(1)) for k in state_dict if (m := re.match(rf'blocks{stage}\.(\d+)\.', k))}
        depths.append(max(indices) + 1 if indices else 0)
    return tuple(depths)


def describe_layout(state_dict: Mapping[str, torch.Tensor]) -> str:
    """Reads the architecture a UniFormer state dict was saved from: depths, widths, stem, layer scale."""
    widths = []
    for stage in range(1, 5):
        weights = [v for k, v in state_dict.items()
                   if re.fullmatch(rf'patch_embed{stage}\.proj(\.\d+)?\.weight', k) and v.dim() >= 4]
        widths.append(weights[-1].shape[0] if weights else None)
    stem = state_dict.get('patch_embed1.proj.weight')
    kind = ('conv stem' if 'patch_embed1.proj.0.weight' in state_dict else
            f'{stem.dim() - 2}D patch stem' if stem is not None else 'no stem')
    layer_scale = any(k.endswith('gamma_1') for k in state_dict)
    return (f'depths {read_depths(state_dict)}, embed_dims {tuple(widths)}, {kind}, '
            f"{'with' if layer_scale else 'no'} layer scale")


def format_keys(keys: List[str]) -> str:
    """The first keys of a list, comma separated, with the total when some are left out; keys come from files, so
    control characters are escaped."""
    shown = ', '.join(printable(str(key)) for key in keys[:_MAX_LISTED])
    return f'{shown}, ... ({len(keys)} in all)' if len(keys) > _MAX_LISTED else shown


def group_by_reason(reasons: Dict[str, str]) -> Dict[str, List[str]]:
    """``{key: reason}`` as ``{reason: [keys]}``, in key order, for one log line per reason."""
    grouped: Dict[str, List[str]] = {}
    for key, reason in reasons.items():
        grouped.setdefault(reason, []).append(key)
    return grouped


def inflate_2d_to_3d(state_dict: Dict[str, torch.Tensor],
                     target: Mapping[str, torch.Tensor],
                     mode: str = 'avg') -> Dict[str, torch.Tensor]:
    """Inflates the 2D kernels of an image checkpoint to the 3D kernels of ``target`` (a video state dict).

    A tensor is inflated when the target has the same key with one more dimension, a temporal one at index 2
    (conv weights: (out, in, kh, kw) -> (out, in, t, kh, kw)). 'avg' repeats the kernel t times and divides
    by t, the official rule, so that a video of identical frames gives the image response away from the
    temporal borders; 'center' puts the kernel in the central frame and zeros elsewhere (mmaction2's port).
    Inflated kernels are computed and returned in float32 whatever the checkpoint's dtype. Other tensors are
    returned unchanged, so a 3D checkpoint passes through untouched.
    """
    if mode not in ('avg', 'center'):
        raise ValueError(f"unknown inflation mode {mode!r}; expected 'avg' or 'center'")
    inflated = {}
    for key, value in state_dict.items():
        goal = target.get(key)
        if goal is None or value.dim() <= 2 or goal.dim() != value.dim() + 1 or \
                goal.shape[:2] + goal.shape[3:] != value.shape:
            inflated[key] = value
            continue
        time = goal.shape[2]
        # In float32 whatever the storage: a float16 kernel divided by time in float16 would lose precision.
        kernel = value.float()
        if mode == 'avg':
            inflated[key] = kernel.unsqueeze(2).repeat_interleave(time, dim=2) / time
        else:
            inflated[key] = torch.zeros(goal.shape, dtype=torch.float32)
            inflated[key][:, :, time // 2] = kernel
    count = sum(inflated[k] is not state_dict[k] for k in state_dict)
    if count:
        print_log(f'inflated {count} 2D kernels to 3D ({mode})', logger='current')
    return inflated


def check_tensor_values(state_dict: Mapping[str, torch.Tensor], own: Mapping[str, torch.Tensor],
                        source: str) -> None:
    """Raises :class:`CheckpointMismatchError` for tensors that ``load_state_dict`` would take silently but wrongly:
    a dtype of another kind than the model's (an integer tensor for a float parameter is cast, a float for an
    integer buffer truncated), or NaN / infinite values.

    Args:
        state_dict (Mapping): The checkpoint's tensors; keys absent from ``own`` are not checked.
        own (Mapping): The model's state dict.
        source (str): Name of the checkpoint, for messages.
    """
    def kind(tensor: torch.Tensor) -> str:
        return 'complex' if tensor.is_complex() else 'floating' if tensor.is_floating_point() else 'integer'

    wrong_kind = [f'{k} ({state_dict[k].dtype}, model {own[k].dtype})' for k in own
                  if k in state_dict and kind(state_dict[k]) != kind(own[k])]
    non_finite = [f'{k} ({int((~torch.isfinite(state_dict[k])).sum())} of {state_dict[k].numel()})' for k in own
                  if k in state_dict and state_dict[k].is_floating_point()
                  and not bool(torch.isfinite(state_dict[k]).all())]
    problems = []
    if wrong_kind:
        problems.append(f'dtype of another kind than the model\'s: {format_keys(wrong_kind)}')
    if non_finite:
        problems.append(f'NaN or infinite values: {format_keys(non_finite)}')
    if problems:
        raise CheckpointMismatchError(f'{source} holds tensors that cannot be loaded as they are:\n  '
                                      + '\n  '.join(problems) + '\nNothing was loaded.')


def compare_keys(own: Mapping[str, torch.Tensor], state_dict: Mapping[str, torch.Tensor],
                 explained: Mapping[str, str]) -> Tuple[List[str], List[str], List[str]]:
    """(shape mismatches, unexplained missing keys, unexplained unexpected keys) of ``state_dict`` against a
    model's ``own`` state dict, ``explained`` holding the keys either side may lack, with the reason."""
    mismatched = [f'{k} (checkpoint {tuple(state_dict[k].shape)}, model {tuple(own[k].shape)})'
                  for k in own if k in state_dict and state_dict[k].shape != own[k].shape]
    missing = [k for k in own if k not in state_dict and k not in explained]
    unexpected = [k for k in state_dict if k not in own and k not in explained]
    return mismatched, missing, unexpected


def check_released_head_dim(source: str, head_dim: int) -> None:
    """Refuses a released checkpoint (named, or a file or URL of its name) for a model of another head_dim.

    head_dim is not stored in a checkpoint: S+ with 32- and 64-wide heads have tensors of equal shapes, and
    loading one into the other gives wrong outputs without any error. Only the name tells them apart.

    Args:
        source (str): The checkpoint's name, path or URL.
        head_dim (int): The attention head width of the model it would load into.
    """
    released = known_checkpoint(source)
    if released is not None and released.head_dim != head_dim:
        raise CheckpointMismatchError(
            f"{source} is the release's {released.name} (arch {released.arch!r}, head_dim {released.head_dim}) but "
            f'the model attends with head_dim {head_dim}: the tensors have the same shapes, the outputs would not '
            f"be the release's. Use a config of arch {released.arch!r}")


def check_fit(source: str, target: str, mismatched: Sequence[str] = (), missing: Sequence[str] = (),
              unexpected: Sequence[str] = (), advice: str = '') -> None:
    """The one "every key explained" check: raises :class:`CheckpointMismatchError` naming the keys of each kind
    of misfit (see :func:`compare_keys`), followed by ``advice``."""
    problems = [f'{label}: {format_keys(list(keys))}' for label, keys in
                (('shape mismatch', mismatched), ('missing from the checkpoint', missing),
                 ('not in the model', unexpected)) if keys]
    if problems:
        raise CheckpointMismatchError(f'{source} does not fit {target}:\n  ' + '\n  '.join(problems)
                                      + (f'\n{advice}' if advice else ''))


def load_state_dict_strictly(model: nn.Module,
                             state_dict: Mapping[str, torch.Tensor],
                             explain_gaps: Callable[[List[str], List[str]], Dict[str, str]],
                             source: str = 'checkpoint') -> Dict[str, List[str]]:
    """Loads ``state_dict`` into ``model`` and raises unless every difference is explained and every value fits
    (:func:`check_fit`, :func:`check_tensor_values`); on any error the model is left untouched.

    Args:
        model (nn.Module): The backbone.
        state_dict (Mapping): Tensors keyed as in the model.
        explain_gaps (Callable): Given the missing and unexpected keys, returns ``{key: reason}`` for those
            that are expected (say, the classifier of an ImageNet checkpoint).
        source (str): Name of the checkpoint, for messages.

    Returns:
        dict: ``loaded``, ``missing`` and ``unused`` key lists.
    """
    own = model.state_dict()
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    reasons = explain_gaps(missing, unexpected)
    check_fit(source, type(model).__name__, *compare_keys(own, state_dict, reasons), advice=(
        f'The checkpoint has {describe_layout(state_dict)}; the model has {describe_layout(own)}. '
        'Pick the arch that matches the checkpoint' + (
            " (head_dim is not stored in a checkpoint: 'small_plus' (head_dim 32) and 'small_plus_dim64' "
            'share one layout, so check it too).' if 'small_plus' in getattr(model, 'arch_zoo', {}) else '.')))
    check_tensor_values(state_dict, own, source)
    loadable = {k: v for k, v in state_dict.items() if k in own}
    model.load_state_dict(loadable, strict=False)
    by_reason = group_by_reason({key: reasons[key] for key in missing + unexpected})
    lines = [f'loaded {len(loadable)} tensors from {source}']
    lines += [f'  {"kept initialised" if keys[0] in missing else "unused"}: {format_keys(keys)} ({reason})'
              for reason, keys in by_reason.items()]
    print_log('\n'.join(lines), logger='current')
    return dict(loaded=list(loadable), missing=missing, unused=unexpected)


def read_checkpoint_state_dict(filename: str) -> Dict[str, torch.Tensor]:
    """The backbone state dict of the checkpoint ``filename`` names (a local path, a URL, or a name of
    ``uniformer_mm.checkpoint_sources.RELEASED_CHECKPOINTS``), read through mmengine's ``CheckpointLoader`` and so
    through the checkpoint reader; a missing local file raises before anything is read, saying where to get it."""
    checkpoint = CheckpointLoader.load_checkpoint(resolve_checkpoint(filename), map_location='cpu')
    state_dict, notes = extract_state_dict(checkpoint)
    if notes:
        print_log(f'{filename}: ' + '; '.join(notes), logger='current')
    return state_dict
