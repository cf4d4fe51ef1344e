"""Generates the README's model-zoo tables from the metafiles (``configs/*/metafile.yml``, listed by
``model-index.yml``).

The metafiles hold every published metric and every measured parameter count / FLOPs figure; the README's
regions between ``<!-- zoo-tables:start -->`` and ``<!-- zoo-tables:end -->`` are generated from them.

Example:
    python .dev_scripts/zoo_tables.py            # print the generated tables
    python .dev_scripts/zoo_tables.py --write    # rewrite them in README.md
    python .dev_scripts/zoo_tables.py --check    # exit 1 if README.md is out of date
"""
import argparse
import sys
from pathlib import Path

from uniformer_mm.apis.model_zoo import load_metafile_models

ROOT = Path(__file__).resolve().parents[1]
START, END = '<!-- zoo-tables:start -->', '<!-- zoo-tables:end -->'


def _millions(params: int) -> str:
    return f'{params / 1e6:.1f}M'


def _link(model: dict) -> str:
    config = model['Config']
    return f'[`{Path(config).name}`]({config})'


def _published(meta: dict) -> str:
    return f"{meta.get('Published Parameters', '-')} / {meta.get('Published FLOPs', '-')}"


def _measured(meta: dict) -> str:
    return f"{_millions(meta['Parameters'])} / {meta['FLOPs']} ({meta['FLOPs Input']})"


def _fmt(value) -> str:
    return '-' if value is None else f'{value:.1f}'


def _weights(model: dict) -> str:
    return f"[download]({model['Weights']})" if model.get('Weights') else '-'


def _dense_table(title: str, metric_header: str, models: list, metric) -> list:
    """One markdown table of a dense-prediction codebase; ``metric(model)`` gives its published-metric cell."""
    out = [f'**{title}**', '',
           f'| config | model | backbone | {metric_header} | params / GFLOPs (published) '
           '| params / GFLOPs (measured) | weights |',
           '|---|---|---|---|---|---|---|']
    for m in models:
        meta = m['Metadata']
        backbone, model_name = meta['Architecture']
        out.append(f'| {_link(m)} | {model_name} | {backbone[len("UniFormer-"):]} | {metric(m)} '
                   f'| {_published(meta)} | {_measured(meta)} | {_weights(m)} |')
    return out


def _box_mask(model: dict) -> str:
    box = next(r['Metrics']['box AP'] for r in model['Results'] if r['Task'] == 'Object Detection')
    mask = next(r['Metrics']['mask AP'] for r in model['Results'] if r['Task'] == 'Instance Segmentation')
    return f'{_fmt(box)} / {_fmt(mask)}'


def _miou(model: dict) -> str:
    metrics = model['Results'][0]['Metrics']
    return f"{_fmt(metrics['mIoU'])} / {_fmt(metrics.get('mIoU(ms+flip)'))}"


def classification_table(models: dict) -> str:
    out = ['**ImageNet-1K classification (mmpretrain)**', '',
           '| config | model | input | top-1 (published) | params / GFLOPs (published) '
           '| params / GFLOPs (measured) | weights |',
           '|---|---|---|---|---|---|---|']
    for m in models['mmpretrain']:
        meta = m['Metadata']
        backbone, training = meta['Architecture']
        out.append(f"| {_link(m)} | {backbone[len('UniFormer-'):]}, {training} | {meta['FLOPs Input']} "
                   f"| {_fmt(m['Results'][0]['Metrics']['Top 1 Accuracy'])} | {_published(meta)} "
                   f"| {_millions(meta['Parameters'])} / {meta['FLOPs']} | {_weights(m)} |")
    return '\n'.join(out)


def dense_tables(models: dict) -> str:
    tables = [
        _dense_table('COCO instance segmentation (mmdet)', 'box / mask AP (published)', models['mmdet'], _box_mask),
        _dense_table('ADE20K semantic segmentation (mmseg)', 'mIoU single / multi-scale (published)',
                     models['mmseg'], _miou),
        _dense_table('COCO keypoints, top-down (mmpose)', 'AP (published)', models['mmpose'],
                     lambda m: _fmt(m['Results'][0]['Metrics']['AP'])),
    ]
    return '\n\n'.join('\n'.join(table) for table in tables)


def _unless_224(meta: dict) -> str:
    return '' if meta['FLOPs Input'] == '224x224' else f" (at {meta['FLOPs Input']})"


def video_table(models: dict) -> str:
    out = ['| config | initialised from | dataset | top-1 (published) | test views | params | GFLOPs per view '
           '(measured; at 224 unless noted) | GFLOPs, all views (published) | weights |',
           '|---|---|---|---|---|---|---|---|---|']
    for m in models['mmaction']:
        meta, result = m['Metadata'], m['Results'][0]
        backbone, sampling = meta['Architecture']
        out.append(f"| {_link(m)} | {meta['Pretrained']} {backbone[len('UniFormer-'):]} | {result['Dataset']} | "
                   f"{_fmt(result['Metrics']['Top 1 Accuracy'])} | {meta['Testing Views']} | "
                   f"{_millions(meta['Parameters'])} | {meta['FLOPs'][:-1]}{_unless_224(meta)} | "
                   f"{meta['Published FLOPs (all views)'][:-1]} | {_weights(m)} |")
    return '\n'.join(out)


def sections(root: Path = ROOT) -> list:
    """The generated texts of the README's marked regions, in README order (classification table,
    dense-prediction tables, video table)."""
    models = load_metafile_models(root)
    note = '\n<!-- generated by .dev_scripts/zoo_tables.py from configs/*/metafile.yml; do not edit -->\n\n'
    return [note + text + '\n\n' for text in (classification_table(models), dense_tables(models), video_table(models))]


def render_readme(readme: str, root: Path = ROOT) -> str:
    """``readme`` with each marked region replaced by its generated text (regions in README order)."""
    parts = readme.split(START)
    texts = sections(root)
    if len(parts) != len(texts) + 1:
        raise ValueError(f'README.md needs {len(texts)} regions marked {START} ... {END}, found {len(parts) - 1}')
    out = [parts[0]]
    for part, text in zip(parts[1:], texts):
        if END not in part:
            raise ValueError(f'{START} without {END} in README.md')
        out.append(START + text + END + part.split(END, 1)[1])
    return ''.join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    group = parser.add_mutually_exclusive_group()
    group.add_argument('--write', action='store_true', help='rewrite the marked regions in README.md')
    group.add_argument('--check', action='store_true', help='exit 1 if README.md differs from the metafiles')
    args = parser.parse_args()
    readme_path = ROOT / 'README.md'
    readme = readme_path.read_text(encoding='utf-8')
    if args.write:
        readme_path.write_text(render_readme(readme), encoding='utf-8')
    elif args.check:
        if render_readme(readme) != readme:
            print('README.md zoo tables differ from configs/*/metafile.yml; run '
                  'python .dev_scripts/zoo_tables.py --write', file=sys.stderr)
            return 1
    else:
        print('\n'.join(sections()), end='')
    return 0


if __name__ == '__main__':
    sys.exit(main())
