"""The model zoo as data: metafiles, model index, README tables and configs agree."""
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'tools' / 'analysis_tools'))
import zoo_tables  # noqa: E402

CODEBASES = ('mmdet', 'mmseg', 'mmpose', 'mmaction', 'mmpretrain')
MODELS = [(cb, m) for cb, models in zoo_tables.load_models().items() for m in models]


def shipped_configs():
    """Every non-toy config a codebase folder ships (``_base_`` fragments and ``toy/`` excluded)."""
    return {f'configs/{cb}/{p.name}' for cb in CODEBASES for p in (ROOT / 'configs' / cb).glob('*.py')}


def test_model_index_imports_every_metafile():
    index = yaml.safe_load((ROOT / 'model-index.yml').read_text())
    assert index['Import'] == [f'configs/{cb}/metafile.yml' for cb in CODEBASES]
    # the installed package's copy, which `mim search` reads
    mim = ROOT / 'uniformer_mm' / '.mim'
    assert (mim / 'model-index.yml').read_text() == (ROOT / 'model-index.yml').read_text()
    for cb in CODEBASES:
        assert (mim / 'configs' / cb / 'metafile.yml').is_file()


def test_every_shipped_config_has_exactly_one_metafile_entry():
    configs = [m['Config'] for _, m in MODELS]
    assert len(configs) == len(set(configs)), 'a config is listed twice'
    missing = shipped_configs() - set(configs)
    assert not missing, f'configs without a metafile entry: {sorted(missing)}'
    absent = [c for c in configs if not (ROOT / c).is_file()]
    assert not absent, f'metafile Config paths that do not exist: {absent}'
    names = [m['Name'] for _, m in MODELS]
    assert len(names) == len(set(names))
    assert all(m['Name'] == Path(m['Config']).stem for _, m in MODELS)


@pytest.mark.parametrize('codebase', CODEBASES)
def test_metafile_schema(codebase):
    doc = yaml.safe_load((ROOT / 'configs' / codebase / 'metafile.yml').read_text())
    (collection, ) = doc['Collections']
    assert collection['Name'] == 'UniFormer' and collection['Paper']['URL'].startswith('https://arxiv.org/abs/')
    assert (ROOT / collection['README']).is_file()
    for model in doc['Models']:
        assert model['In Collection'] == 'UniFormer'
        meta = model['Metadata']
        assert isinstance(meta['Parameters'], int) and meta['FLOPs'].endswith('G')
        assert meta['Training Data'] and meta['Training Resources']
        assert model['Results'] and all(r['Task'] and r['Dataset'] and r['Metrics'] for r in model['Results'])


def _named_configs(text):
    """The config paths a checkpoint-table ``config`` text names (it may be a path, or a sentence with paths)."""
    return re.findall(r'configs/[\w./+-]+\.py', text)


def test_weights_are_direct_downloads_from_the_checkpoint_table():
    from uniformer_mm.checkpoint_sources import RELEASED_CHECKPOINTS
    for _, model in MODELS:
        table = [e for e in RELEASED_CHECKPOINTS.values() if model['Config'] in _named_configs(e.config) and e.url]
        if table:
            assert model.get('Weights') in {e.url for e in table}, model['Name']
        if model.get('Weights'):
            assert model['Weights'].startswith('https://') and 'drive.google' not in model['Weights']
            assert model['Weights'].endswith('.pth')


def test_readme_tables_are_generated_from_the_metafiles():
    readme = (ROOT / 'README.md').read_text(encoding='utf-8')
    assert zoo_tables.render_readme(readme) == readme, \
        'README.md zoo tables are out of date: python tools/analysis_tools/zoo_tables.py --write'
    for _, model in MODELS:
        assert f"]({model['Config']})" in readme


def _build(config):
    from mmengine.config import Config

    from uniformer_mm.apis import build_model_from_config
    cfg = Config.fromfile(str(ROOT / config))
    cfg.model.backbone.init_cfg = None
    return build_model_from_config(cfg)


@pytest.mark.slow
@pytest.mark.parametrize('codebase, model', MODELS, ids=[m['Name'] for _, m in MODELS])
def test_parameters_match_the_metafile(codebase, model):
    built = _build(model['Config'])
    assert sum(p.numel() for p in built.parameters()) == model['Metadata']['Parameters']


@pytest.mark.slow
def test_mim_search_lists_the_zoo():
    # From the checkout: mim finds an editable install's model index through the egg-info next to the package
    # (sys.path[0] is the working directory with `python -m`); a regular install carries it in the package.
    result = subprocess.run([sys.executable, '-m', 'mim', 'search', 'uniformer_mm', '--model', 'uniformer'],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    for _, model in MODELS:
        assert model['Name'].lower() in result.stdout.lower()
