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


def test_config_headers_carry_their_published_metric():
    for _, model in MODELS:
        # the text before the `_base_ = ...` line (file names in the comments may contain "_base_")
        header = re.split(r'^_base_\s*=', (ROOT / model['Config']).read_text(), flags=re.M)[0]
        metric = next(iter(model['Results'][0]['Metrics'].values()))
        assert f'{metric:.1f}' in header, f"{model['Config']}: published {metric} not in its header comment"


def _build(config):
    from mmengine.config import Config

    from harness import build_model_from_config
    cfg = Config.fromfile(str(ROOT / config))
    cfg.model.backbone.init_cfg = None
    return build_model_from_config(cfg)


@pytest.mark.slow
@pytest.mark.parametrize('codebase, model', MODELS, ids=[m['Name'] for _, m in MODELS])
def test_parameters_match_the_metafile(codebase, model):
    built = _build(model['Config'])
    assert sum(p.numel() for p in built.parameters()) == model['Metadata']['Parameters']


# One config per kind of model (30-60 s of FLOP counting each on 2 cores): each detector, segmentor and pose
# head, with global, window and hybrid stage 3, and both classifier heads (linear at 224, token labeling at 384).
FLOPS_CHECKED = ('mask-rcnn_uniformer-s-h14_fpn_1x_coco',
                 'cascade-mask-rcnn_uniformer-b-h14_fpn_4conv1fc-giou_ms-crop-3x_coco',
                 'upernet_uniformer-s_8xb2-160k_ade20k-512x512', 'fpn_uniformer-b-w32_8xb4-80k_ade20k-512x512',
                 'td-hm_uniformer-s_8xb64-210e_coco-448x320', 'uniformer-small_8xb128_in1k',
                 'uniformer-small-tl_8xb64_in1k-384px')
DENSE = [(cb, m) for cb, m in MODELS if Path(m['Config']).stem in FLOPS_CHECKED]


def test_flops_checked_configs_exist():
    assert len(DENSE) == len(FLOPS_CHECKED)


@pytest.mark.slow
@pytest.mark.parametrize('codebase, model', DENSE, ids=[m['Name'] for _, m in DENSE])
def test_flops_match_the_metafile(codebase, model):
    """tools/analysis_tools/analysis_tools/analyze_model_zoo.py reproduces the metafile's FLOPs."""
    result = subprocess.run([sys.executable, 'tools/analysis_tools/analyze_model_zoo.py', model['Config']], cwd=ROOT,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    # the config's row (mmengine may log to stdout while building the model)
    line = next(line for line in result.stdout.splitlines() if line.startswith(f"| {Path(model['Config']).name} "))
    row = [cell.strip() for cell in line.split('|')[1:-1]]
    assert row[2] == model['Metadata']['FLOPs Input'].replace('x', 'x')
    assert f'{row[3]}G' == model['Metadata']['FLOPs']


@pytest.mark.slow
def test_mim_search_lists_the_zoo():
    # From the checkout: mim finds an editable install's model index through the egg-info next to the package
    # (sys.path[0] is the working directory with `python -m`); a regular install carries it in the package.
    result = subprocess.run([sys.executable, '-m', 'mim', 'search', 'uniformer_mm', '--model', 'uniformer'],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    for _, model in MODELS:
        assert model['Name'].lower() in result.stdout.lower()
