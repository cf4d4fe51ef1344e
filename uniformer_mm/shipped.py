"""Where the files that ship with the package are: the configs, the scripts of ``tools/`` with the Kinetics-400
label files, and the docs, under ``uniformer_mm/.mim/`` (OpenMMLab's layout, which ``mim train / test / run
uniformer_mm`` read; in a clone these are links to the repository's ``configs/``, ``tools/`` and ``docs/``).

A shipped config by name, for the inferencers and ``Config.fromfile``::

    from uniformer_mm.shipped import config_path
    MMSegInferencer(model=config_path('upernet_uniformer-s_8xb2-160k_ade20k-512x512'), ...)

From a shell (``python -m uniformer_mm.shipped -h``)::

    python -m uniformer_mm.shipped --list                      # every shipped config, relative to the root
    python -m uniformer_mm.shipped mmseg/upernet_uniformer-s_8xb2-160k_ade20k-512x512.py
    python -m uniformer_mm.shipped tools/data/kinetics/label_map_k400.txt docs/checkpoints.md
    python -m uniformer_mm.shipped --weights upernet_uniformer-s_8xb2-160k_ade20k-512x512   # where its weights are
    export UNIFORMER_MM_CONFIGS=$(python -m uniformer_mm.shipped --root)

A config of your own, anywhere, inherits a shipped one through that variable (mmengine substitutes
``{{$NAME:default}}`` in a config's text before it reads ``_base_``; with an empty default an unset variable is an
error that names it)::

    _base_ = '{{$UNIFORMER_MM_CONFIGS:}}/mmseg/upernet_uniformer-s_8xb2-160k_ade20k-512x512.py'

(``_base_ = 'uniformer_mm::...'`` is refused by mmengine 0.10, which accepts only the packages of its own table.)
"""
import argparse
import difflib
import os
import sys
from pathlib import Path
from typing import Dict, List

# The installed package's .mim folder (in a clone: links to the repository's model-index.yml, configs/ and tools/).
MIM_ROOT = Path(__file__).resolve().parent / '.mim'
CONFIG_ROOT = MIM_ROOT / 'configs'
# What the package ships under MIM_ROOT (setup.py's package_data); nothing else there is looked at.
SHIPPED_ENTRIES = ('model-index.yml', 'configs', 'tools', 'docs')
# The environment variable that users' own configs name in ``_base_`` (documented in README and docs/).
CONFIG_ROOT_VARIABLE = 'UNIFORMER_MM_CONFIGS'
# Error messages quote a name up to this many characters: a name is user input, and may be any length.
QUOTED_NAME_CHARS = 200


def shipped_files() -> Dict[str, Path]:
    """Every shipped file, by its path in the repository (``'docs/checkpoints.md'``), to its path under
    :data:`MIM_ROOT`. Names are looked up here rather than joined onto a folder, so that ``..``, absolute paths,
    folders and look-alike names cannot reach anything else; a link that leads out of the entry it lies in (its
    resolved path outside the resolved ``configs/``, ``tools/`` or ``docs/``) is left out, and so are links to
    folders, which are not followed."""
    files = {}
    for entry in SHIPPED_ENTRIES:
        top = MIM_ROOT / entry
        if top.is_file():
            files[entry] = top
            continue
        root = top.resolve()
        for folder, _, names in os.walk(top):
            for name in names:
                path = Path(folder) / name
                # is_file first: it is False for a link loop, which resolve() would raise on (parents rather than
                # is_relative_to, which Python 3.8 lacks)
                if path.is_file() and root in path.resolve().parents:
                    files[path.relative_to(MIM_ROOT).as_posix()] = path
    return files


def list_configs() -> List[str]:
    """Every shipped config, as its path relative to the config root (``mmseg/upernet_...py``), sorted; the
    ``_base_`` recipes they inherit are left out."""
    return sorted(name[len('configs/'):] for name in shipped_files()
                  if name.startswith('configs/') and name.endswith('.py') and '_base_' not in name.split('/'))


def quoted(name: str) -> str:
    """``name`` as an error message quotes it: its repr, cut to :data:`QUOTED_NAME_CHARS` characters.

    Args:
        name (str): A name given by the user.
    """
    if len(name) <= QUOTED_NAME_CHARS:
        return repr(name)
    return f'{name[:QUOTED_NAME_CHARS]!r}... ({len(name)} characters)'


def closest(name: str, candidates: List[str]) -> List[str]:
    """Up to three of ``candidates`` closest to ``name``, ignoring case (a name that differs only in case is
    refused, as on a case-sensitive file system, and suggested).

    Args:
        name (str): A name that matched none of the candidates.
        candidates (list[str]): The names it could have meant.
    """
    by_folded = {candidate.casefold(): candidate for candidate in candidates}
    return [by_folded[match] for match in difflib.get_close_matches(name.casefold(), by_folded, n=3)]


def config_path(name: str) -> str:
    """The absolute path of a shipped config.

    Args:
        name (str): Its path under ``configs/`` (``'mmseg/upernet_uniformer-s_8xb2-160k_ade20k-512x512.py'``,
            ``'.py'`` optional, a leading ``configs/`` allowed), or its file name alone, which is also its name in
            ``mim search uniformer_mm`` (``'upernet_uniformer-s_8xb2-160k_ade20k-512x512'``).

    Raises:
        FileNotFoundError: No shipped config has that name; the closest names are suggested.
    """
    relative = name[len('configs/'):] if name.startswith('configs/') else name
    relative = relative if relative.endswith('.py') else relative + '.py'
    configs = list_configs()
    if relative in configs:
        return str(CONFIG_ROOT / relative)
    by_file_name = [config for config in configs if config.rsplit('/', 1)[-1] == relative]
    if len(by_file_name) == 1:
        return str(CONFIG_ROOT / by_file_name[0])
    close = closest(relative, configs + [config.rsplit('/', 1)[-1] for config in configs])
    hint = f"; did you mean {' or '.join(repr(c[:-len('.py')]) for c in close)}?" if close else ''
    raise FileNotFoundError(f'uniformer_mm ships no config {quoted(name)}{hint} (python -m uniformer_mm.shipped '
                            f'--list lists them; they are under {CONFIG_ROOT})')


def shipped_path(relative: str) -> str:
    """The absolute path of any shipped file, given its path in the repository (``'configs/...'``,
    ``'tools/data/kinetics/label_map_k400.txt'``, ``'tools/convert_checkpoint.py'``, ``'docs/checkpoints.md'``).

    Args:
        relative (str): The file's path in the repository, exactly (no ``..``, no leading ``/``).

    Raises:
        FileNotFoundError: The package ships no such file; the closest shipped paths are suggested.
    """
    files = shipped_files()
    if relative in files:
        return str(files[relative])
    close = closest(relative, list(files))
    hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ''
    raise FileNotFoundError(f'uniformer_mm ships no file {quoted(relative)}{hint} (shipped: model-index.yml, '
                            f'configs/, tools/ without its shell scripts, docs/*.md, under {MIM_ROOT})')


def describe_weights(name: str) -> str:
    """Where the trained weights of a shipped config are and how they load, in words; for every row of
    ``mim search uniformer_mm``, including those ``mim download`` cannot fetch (openmim 0.3.9 stops with
    ``AttributeError: 'float' object has no attribute 'split'`` on a row without ``Weights``).

    Args:
        name (str): A config, as :func:`config_path` takes it.
    """
    from .apis.model_zoo import load_metafile_models
    from .checkpoint_sources import LOAD_ROUTES, released_files_of
    config = Path(config_path(name)).relative_to(CONFIG_ROOT).as_posix()
    models = {model['Config']: model for models in load_metafile_models(MIM_ROOT).values() for model in models}
    model = models.get(f'configs/{config}')
    if model is None:
        return f'{config}: not a model-zoo config (no published result, no released weights)'
    files = released_files_of(model)
    if not files:
        return (f"{config}: no released file (the release published the result without weights); mim download "
                'cannot fetch one, train the config instead')
    lines = [f'{config}:']
    if 'Weights' in model:
        lines.append(f"  mim download uniformer_mm --config {model['Name']} fetches {model['Weights']}")
    else:
        lines.append('  mim download cannot fetch it (the row has no direct download): get it by hand')
    for entry in files:
        lines.append(f'  {entry.name}: {entry.where()}; then {LOAD_ROUTES[entry.load]}')
    return '\n'.join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog='python -m uniformer_mm.shipped',
        description='Print the installed paths of shipped configs and files (configs by name, '
                    'e.g. upernet_uniformer-s_8xb2-160k_ade20k-512x512; other files by their path in the repository, '
                    'e.g. tools/data/kinetics/label_map_k400.txt or docs/checkpoints.md).')
    parser.add_argument('names', nargs='*',
                        help='configs (by name or path under configs/) or files (tools/..., docs/...)')
    group = parser.add_mutually_exclusive_group()
    group.add_argument('--list', action='store_true', help='list the shipped configs')
    group.add_argument('--weights', action='store_true',
                       help='for each config named: where its released weights are and how they load')
    group.add_argument('--root', action='store_true',
                       help=f'print the config root (for {CONFIG_ROOT_VARIABLE}, which your configs can name in '
                            f"_base_ = '{{{{${CONFIG_ROOT_VARIABLE}:}}}}/mmseg/...py')")
    args = parser.parse_args(argv)
    if not (args.names or args.list or args.root):
        parser.error('give a name, --list or --root')
    lines = list_configs() if args.list else [str(CONFIG_ROOT)] if args.root else []
    try:
        if args.weights:
            lines += [describe_weights(name) for name in args.names]
        else:
            lines += [shipped_path(name) if name.startswith(('tools/', 'docs/')) else config_path(name)
                      for name in args.names]
    except FileNotFoundError as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    print('\n'.join(lines))
    return 0


if __name__ == '__main__':
    sys.exit(main())
