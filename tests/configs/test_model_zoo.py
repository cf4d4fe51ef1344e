"""The model zoo as data: metafiles, model index, the tables of docs/model_zoo.md and README's summary, released
checkpoints and configs agree."""
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from mmengine.config import Config

from uniformer_mm import UniFormer2D, UniFormer3D
from uniformer_mm.apis import build_model_from_config, load_metafile_models
from uniformer_mm.checkpoint_sources import RELEASED_CHECKPOINTS

from helpers import load_script
from zoo import MODELS, ROOT, converted_from

CODEBASES = ('mmdet', 'mmseg', 'mmpose', 'mmaction', 'mmpretrain')
RELEASE_CODE = 'https://github.com/Sense-X/UniFormer/tree/main/'
DIRECT_DOWNLOADS = {url for entry in RELEASED_CHECKPOINTS.values() for url in (entry.url, *entry.mirrors) if url}


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
        assert (mim / 'configs' / cb / '_base_').is_dir(), 'the shared recipes the configs inherit ship with them'
    # what uniformer_mm.apis reads by default, wherever the package is installed
    assert load_metafile_models() == load_metafile_models(ROOT)


def test_every_shipped_config_has_exactly_one_metafile_entry():
    configs = [model['Config'] for models in load_metafile_models(ROOT).values() for model in models]
    assert len(configs) == len(set(configs)), 'a config is listed twice'
    missing = shipped_configs() - set(configs)
    assert not missing, f'configs without a metafile entry: {sorted(missing)}'
    absent = [c for c in configs if not (ROOT / c).is_file()]
    assert not absent, f'metafile Config paths that do not exist: {absent}'
    assert all(model['Name'] == Path(config).stem for config, model in MODELS.items())


def test_the_default_detection_config_is_an_alias_not_a_zoo_entry():
    # `mim train mmdet configs/uniformer_maskrcnn.py` (docs/training.md) trains the zoo's first detection config.
    alias = ROOT / 'configs' / 'uniformer_maskrcnn.py'
    assert Config._get_base_files(str(alias)) == ['./mmdet/mask-rcnn_uniformer-s-h14_fpn_1x_coco.py']
    assert 'configs/uniformer_maskrcnn.py' not in MODELS


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
        if 'Converted From' in model:
            assert set(model['Converted From']) == {'Weights', 'Code'}
            assert model['Converted From']['Code'].startswith(RELEASE_CODE), model['Name']


def test_weights_are_released_files():
    for config, model in MODELS.items():
        if 'Weights' in model:
            assert model['Weights'] in DIRECT_DOWNLOADS, f'{config}: Weights is no direct download of a released file'
        if 'Converted From' in model:
            released = converted_from(model)
            assert released is not None, f'{config}: Converted From names no released file'
            # a direct download of the file (or of its OpenMMLab port) is what mim downloads
            assert not released.url or 'Weights' in model, f'{config}: {released.name} has a direct download'


def test_every_released_file_belongs_to_a_zoo_config():
    named = {address for model in MODELS.values()
             for address in (model.get('Weights'), model.get('Converted From', {}).get('Weights')) if address}
    for entry in RELEASED_CHECKPOINTS.values():
        assert named & {entry.url, *entry.mirrors, entry.page}, f'no metafile model uses {entry.name}'


@pytest.mark.slow
@pytest.mark.parametrize('config', sorted(MODELS))
def test_released_checkpoints_fit_the_config(config):
    """The release file a zoo config is converted from, and the ImageNet file its init_cfg names, load into it."""
    backbone = Config.fromfile(str(ROOT / config)).model.backbone
    layout = ('depths', 'embed_dims', 'head_dim')
    arch_zoo = {'UniFormer2D': UniFormer2D, 'UniFormer3D': UniFormer3D}[backbone.type].arch_zoo
    released = converted_from(MODELS[config])
    if released is not None:
        assert (released.arch, released.head_dim) == (backbone.arch, arch_zoo[backbone.arch]['head_dim'])
    pretrained = RELEASED_CHECKPOINTS.get((backbone.get('init_cfg') or {}).get('checkpoint'))
    if pretrained is not None:  # a video recipe's Kinetics file is a path the user downloads
        assert [arch_zoo[pretrained.arch][k] for k in layout] == [arch_zoo[backbone.arch][k] for k in layout]


def test_zoo_tables_and_readme_summary_are_generated_from_the_metafiles():
    zoo_tables = load_script(ROOT / '.dev_scripts' / 'zoo_tables.py')
    for name, (text, generated) in zoo_tables.rendered(ROOT).items():
        assert generated == text, f'{name}: zoo tables are out of date: python .dev_scripts/zoo_tables.py --write'
    page = (ROOT / 'docs' / 'model_zoo.md').read_text(encoding='utf-8')
    for config in MODELS:
        assert f'](../{config})' in page
    # README's summary: every row links a heading of the page, and the totals count the metafiles' models
    readme = (ROOT / 'README.md').read_text(encoding='utf-8')
    headings = {zoo_tables.anchor(heading) for heading in re.findall(r'^## (.+)$', page, re.M)}
    links = re.findall(r'\]\(docs/model_zoo\.md#([\w-]+)\)', readme)
    assert len(links) == len(zoo_tables.CODEBASES) and set(links) <= headings
    totals = re.search(r'^\| all \| \| \*\*(\d+)\*\* \| \*\*(\d+)\*\* \| \*\*(\d+)\*\* \|$', readme, re.M)
    configs, released, direct = map(int, totals.groups())
    assert configs == len(MODELS) == len(shipped_configs())
    assert released == sum('Weights' in m or 'Converted From' in m for m in MODELS.values())
    assert direct == sum('Weights' in m for m in MODELS.values())


@pytest.mark.slow
@pytest.mark.parametrize('config', sorted(MODELS))
def test_parameters_match_the_metafile(config):
    cfg = Config.fromfile(str(ROOT / config))
    cfg.model.backbone.init_cfg = None
    built = build_model_from_config(cfg)
    assert sum(p.numel() for p in built.parameters()) == MODELS[config]['Metadata']['Parameters']


@pytest.mark.slow
def test_mim_search_lists_the_zoo():
    # From the checkout: mim finds an editable install's model index through the egg-info next to the package
    # (sys.path[0] is the working directory with `python -m`); a regular install carries it in the package.
    result = subprocess.run([sys.executable, '-m', 'mim', 'search', 'uniformer_mm', '--model', 'uniformer'],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    for model in MODELS.values():
        assert model['Name'].lower() in result.stdout.lower()
