"""Task metrics of one config and checkpoint through several inference paths (precision and backend), side by side.

Each path is a separate ``tools/test.py --precision P --backend B`` process (nothing is shared between paths:
no OpenVINO cache, no autocast state, no compiled graph), run in the current directory so that the config's
relative data paths resolve as they do for ``mim test``. The metrics each run wrote are read back with
``uniformer_mm.apis.newest_test_metrics`` and printed as a Markdown table: per path, each metric and its
difference from the reference path (``fp32:pytorch`` when it is among the paths, else the first), and the wall
time of the whole process (start-up, ONNX export, int8 calibration and compilation included). The same results
go to ``{work-dir}/parity.json`` and ``{work-dir}/parity.md``.

A path that fails (a precision the CPU would emulate, without ``--allow-emulated``; an error in a backend) is a
row saying why; the others still run, and the exit status is 1.

Example:
    python tools/analysis_tools/precision_parity.py configs/mmseg/toy/fpn_uniformer-xxs_toy-shapes-160x160.py \\
        work_dirs/toy_seg_xxs/iter_240.pth --paths fp32:pytorch bf16:pytorch bf16:openvino int8:openvino \\
        --work-dir work_dirs/toy_seg_xxs/parity
"""
import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from uniformer_mm.apis import newest_test_metrics

TEST_SCRIPT = Path(__file__).resolve().parents[1] / 'test.py'
DEFAULT_PATHS = ('fp32:pytorch', 'bf16:pytorch', 'fp16:pytorch', 'bf16:openvino', 'int8:openvino')
PRECISIONS = ('fp32', 'bf16', 'fp16', 'int8')
BACKENDS = ('pytorch', 'openvino')
# The headline metrics of each codebase, shown when a run reports them (--metrics all shows every one).
HEADLINE_METRICS = ('mIoU', 'aAcc', 'mAcc', 'coco/bbox_mAP', 'coco/bbox_mAP_50', 'coco/segm_mAP', 'coco/segm_mAP_50',
                    'coco/AP', 'coco/AP .5', 'coco/AR', 'acc/top1', 'acc/top5', 'acc/mean1', 'accuracy/top1',
                    'accuracy/top5')
NOT_METRICS = ('data_time', 'time', 'step')
REFERENCE = 'fp32:pytorch'


def parse_path(text: str) -> tuple:
    """'bf16:openvino' -> ('bf16', 'openvino'); a bare precision runs on the pytorch backend."""
    precision, _, backend = text.partition(':')
    backend = backend or 'pytorch'
    if precision not in PRECISIONS or backend not in BACKENDS:
        raise argparse.ArgumentTypeError(f'{text!r}: expected PRECISION:BACKEND with PRECISION in {PRECISIONS} '
                                         f'and BACKEND in {BACKENDS}')
    return precision, backend


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--paths', nargs='+', type=parse_path, default=[parse_path(p) for p in DEFAULT_PATHS],
                        metavar='PRECISION:BACKEND', help=f"default: {' '.join(DEFAULT_PATHS)}")
    parser.add_argument('--work-dir', help='one sub-folder per path; default work_dirs/precision_parity/{config name}')
    parser.add_argument('--metrics', nargs='+',
                        help="metrics to show (default: the codebase's headline ones the runs report; 'all': every "
                        'metric)')
    parser.add_argument('--calibration-samples', type=int, default=32, help='int8: training samples to calibrate on')
    parser.add_argument('--allow-emulated', action='store_true',
                        help='run a precision this CPU would emulate (otherwise that path fails and says so)')
    parser.add_argument('--cfg-options', nargs='+', default=[], help='key=value overrides, passed to every run')
    parser.add_argument('--timeout', type=float, default=3600, help='seconds per path before it is stopped')
    return parser.parse_args(argv)


def run_path(config: str, checkpoint: str, precision: str, backend: str, work_dir: Path, args) -> dict:
    """One ``tools/test.py`` process; returns its metrics, wall time and, if it failed, why."""
    command = [sys.executable, str(TEST_SCRIPT), config, '--checkpoint', checkpoint, '--work-dir', str(work_dir),
               '--precision', precision, '--backend', backend, '--calibration-samples', str(args.calibration_samples)]
    if args.allow_emulated:
        command.append('--allow-emulated')
    if args.cfg_options:
        command += ['--cfg-options', *args.cfg_options]
    work_dir.mkdir(parents=True, exist_ok=True)
    runs_before = set(work_dir.glob('*/*.json'))
    start = time.perf_counter()
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return dict(wall_s=time.perf_counter() - start, error=f'stopped after {args.timeout:.0f} s')
    wall = time.perf_counter() - start
    (work_dir / 'output.log').write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        return dict(wall_s=wall, error=failure_reason(result.stderr or result.stdout), returncode=result.returncode)
    if set(work_dir.glob('*/*.json')) <= runs_before:
        return dict(wall_s=wall, error='the run wrote no metrics')
    metrics = {k: v for k, v in newest_test_metrics(work_dir).items()
               if k not in NOT_METRICS and isinstance(v, (int, float))}
    return dict(wall_s=wall, metrics=metrics)


def failure_reason(output: str) -> str:
    """The last exception line of a traceback (``ValueError: ...``), else the last line printed."""
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    for line in reversed(lines):
        name = line.split(':', 1)[0]
        if ':' in line and (name.endswith('Error') or name.endswith('Exception')) and ' ' not in name:
            return line
    return lines[-1] if lines else 'no output'


def choose_metrics(results: Dict[str, dict], wanted: Optional[List[str]]) -> List[str]:
    reported = []
    for result in results.values():
        reported += [key for key in result.get('metrics', {}) if key not in reported]
    if wanted == ['all']:
        return reported
    if wanted:
        return wanted
    return [key for key in HEADLINE_METRICS if key in reported] or reported


def format_value(value: Optional[float]) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return '-'
    return f'{value:.4f}' if abs(value) < 1.5 else f'{value:.2f}'


def format_difference(value: Optional[float], reference: Optional[float]) -> str:
    if value is None or reference is None:
        return '-'
    difference = value - reference
    return f'{difference:+.4f}' if max(abs(value), abs(reference)) < 1.5 else f'{difference:+.2f}'


def markdown_table(results: Dict[str, dict], metrics: List[str], reference: str) -> str:
    # With no metric reported at all (every path failed), one column says why.
    header = ['path'] + ([part for key in metrics for part in (key, f'Δ {key}')] or ['result']) + ['wall time (s)']
    rows = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    reference_metrics = results.get(reference, {}).get('metrics', {})
    for name, result in results.items():
        if 'error' in result:
            cells = [name, f"failed: {result['error'][:200]}".replace('|', '/')] + [''] * max(2 * len(metrics) - 1, 0)
        else:
            cells = [name]
            for key in metrics:
                value = result['metrics'].get(key)
                cells += [format_value(value), format_difference(value, reference_metrics.get(key))]
        rows.append('| ' + ' | '.join(cells + [f"{result['wall_s']:.1f}"]) + ' |')
    return '\n'.join(rows)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    work_dir = Path(args.work_dir or Path('work_dirs') / 'precision_parity' / Path(args.config).stem)
    config, checkpoint = str(Path(args.config).resolve()), str(Path(args.checkpoint).resolve())
    results: Dict[str, dict] = {}
    for precision, backend in args.paths:
        name = f'{precision}:{backend}'
        print(f'{name}: running tools/test.py ...', flush=True)
        results[name] = run_path(config, checkpoint, precision, backend, work_dir / f'{precision}-{backend}', args)
        outcome = results[name].get('metrics') or results[name].get('error')
        print(f"{name}: {outcome} ({results[name]['wall_s']:.1f} s)", flush=True)
    reference = REFERENCE if REFERENCE in results else next(iter(results))
    table = markdown_table(results, choose_metrics(results, args.metrics), reference)
    print(f'\n{Path(args.config).name}, {Path(args.checkpoint).name}; Δ against {reference}\n\n{table}')
    (work_dir / 'parity.json').write_text(
        json.dumps(dict(config=args.config, checkpoint=args.checkpoint, reference=reference, paths=results), indent=2))
    (work_dir / 'parity.md').write_text(table + '\n')
    return 1 if any('error' in result for result in results.values()) else 0


if __name__ == '__main__':
    sys.exit(main())
