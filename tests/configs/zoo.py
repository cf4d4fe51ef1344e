"""The model zoo as the metafiles list it, for the config tests: each zoo config with its metafile entry, and the
facts the entry's names carry (backbone size and attention mode, input size, frames)."""
import re

from uniformer_mm.apis.model_zoo import load_metafile_models

from helpers import ROOT

# The metafiles' backbone sizes as UniFormer arch names.
SIZES = {'XXS': 'xxs', 'XS': 'xs', 'S': 'small', 'B': 'base'}


MODELS = {model['Config']: model for models in load_metafile_models(ROOT).values() for model in models}


def zoo(codebase: str) -> dict:
    """``{config path relative to the codebase folder: metafile model}`` of one codebase."""
    prefix = f'configs/{codebase}/'
    return {config[len(prefix):]: model for config, model in MODELS.items() if config.startswith(prefix)}


def backbone(model: dict) -> tuple:
    """(arch, attention mode, window size) that a dense model's architecture name (``UniFormer-B-w32``) says."""
    name = model['Metadata']['Architecture'][0]
    size, kind, window = re.match(r'UniFormer-(XXS|XS|S|B)(?:-([hw])(\d+))?', name).groups()
    mode = {'h': 'hybrid', 'w': 'window', None: 'global'}[kind]
    return SIZES[size], mode, int(window or 14)


def input_size(model: dict) -> tuple:
    """(height, width) of the metafile's ``FLOPs Input``."""
    height, width = model['Metadata']['FLOPs Input'].split('x')
    return int(height), int(width)


def published_millions(model: dict) -> float:
    """The release's parameter count in millions (``Published Parameters: 52M``)."""
    return float(model['Metadata']['Published Parameters'].rstrip('M'))


def converted_from(model: dict):
    """The released checkpoint a metafile model's ``Converted From: Weights`` names, or None."""
    from uniformer_mm.checkpoint_sources import RELEASED_CHECKPOINTS
    page = model.get('Converted From', {}).get('Weights')
    return next((entry for entry in RELEASED_CHECKPOINTS.values()
                 if page and page in (entry.page, entry.url, *entry.mirrors)), None)
