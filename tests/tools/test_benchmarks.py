"""The backbone and video benchmarks run end to end on a small input, for the paths and precisions a user names."""
import pytest

from helpers import PYTHON, ROOT, run

BENCHMARK = ROOT / 'tools/analysis_tools/benchmark_backbone.py'
VIDEO_BENCHMARK = ROOT / 'tools/analysis_tools/benchmark_video.py'


def table_rows(output: str, size: str) -> dict:
    """The result rows of the printed table at ``size``, keyed by (model, precision, path)."""
    rows = {}
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.strip().strip('|').split('|')]
        if cells[0] == size and len(cells) == 9 and not cells[1].startswith('('):
            rows[tuple(cells[1:4])] = cells[4:]
    return rows


@pytest.mark.slow
def test_a_lower_precision_path_is_timed_without_float32_eager_among_the_paths(tmp_path):
    # bf16 only: the errors are still taken against the float32 eager model, which is not timed. (The eager path,
    # under autocast, needs no export: the exported paths have their own tests.)
    output = run([PYTHON, BENCHMARK, '--size', '64', '64', '--models', 'xxs', '--paths', 'eager',
                  '--precisions', 'bf16', '--repeat', '1', '--calls', '2'], cwd=tmp_path, timeout=600)
    assert 'the last of 2 back-to-back calls of each path per round (warm)' in output
    rows = table_rows(output, '64x64')
    assert list(rows) == [('xxs', 'bf16', 'eager')]
    latency, ratio, error = rows['xxs', 'bf16', 'eager'][:3]
    assert float(latency) >= 0 and ratio == '-'
    assert 0 <= float(error) < 1


@pytest.mark.slow
def test_video_benchmark_times_every_transformer_in_both_precisions(tmp_path):
    # MViTv2-S returns a [map, class token] pair per scale; the benchmark failed on it in every precision.
    output = run([PYTHON, VIDEO_BENCHMARK, '--frames', '4', '--size', '64', '--precisions', 'fp32', 'bf16',
                  '--repeat', '1'], cwd=tmp_path, timeout=600)
    rows = {tuple(cells[:2]): cells[2:] for cells in (
        [cell.strip() for cell in line.strip().strip('|').split('|')] for line in output.splitlines()
        if line.startswith('| ') and not line.startswith('| backbone'))}
    backbones = ('UniFormer3D-S (ours)', 'UniFormer-S (mmaction2)', 'TimeSformer (mmaction2, divided ST)',
                 'MViTv2-S (mmaction2)')
    assert set(rows) == {(name, precision) for name in backbones for precision in ('fp32', 'bf16')}
    for (name, precision), cells in rows.items():
        error = float(cells[3])
        assert error < (1e-5 if precision == 'fp32' else 0.1), (name, precision, error)
