"""The backbone benchmark runs end to end on a small input, for the paths and precisions a user names; the video
benchmark times a backbone whose outputs are nested, and runs ours and a peer through OpenVINO in int8."""
import pytest
import torch

from helpers import PYTHON, ROOT, load_script, run

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
def test_video_benchmark_times_a_backbone_with_nested_outputs_in_both_precisions():
    # MViTv2-S returns a [map, class token] pair per scale; the benchmark failed on it in every precision. Its
    # worker is called in this process: a subprocess per backbone, as the tool runs them, costs 10 s of imports each.
    benchmark = load_script(VIDEO_BENCHMARK)
    result = benchmark.run_worker(dict(models='transformers', name='MViTv2-S (mmaction2)', path='eager', frames=4,
                                       size=64, threads=torch.get_num_threads(), repeat=1,
                                       precisions=['fp32', 'bf16', 'int8'], calibration=1))
    assert set(result['precisions']) == {'fp32', 'bf16'}  # int8 is offered through OpenVINO only
    assert result['precisions']['fp32']['error'] == 0  # MViT has no fused attention: the same computation
    assert 0 < result['precisions']['bf16']['error'] < 0.1
    assert result['gmacs'] > 0 and result['precisions']['bf16']['latency'] > 0


@pytest.mark.slow
@pytest.mark.parametrize('name', ['UniFormer3D-XXS (ours)', 'X3D-S / X3D-M (mmaction2)'])
def test_video_benchmark_runs_ours_and_a_peer_through_openvino_in_int8(name):
    benchmark = load_script(VIDEO_BENCHMARK)
    result = benchmark.run_worker(dict(models='light', name=name, path='openvino', frames=8, size=64,
                                       threads=torch.get_num_threads(), repeat=1, precisions=['fp32', 'int8'],
                                       calibration=1))
    assert list(result['precisions']) == ['fp32', 'int8']
    fp32, int8 = result['precisions']['fp32'], result['precisions']['int8']
    assert fp32['error'] < 1e-4 and fp32['latency'] > 0  # the exported file computes what PyTorch does
    # An untrained light model's int8 error is mostly which nearly tied tokens it keeps (docs/benchmarks.md).
    assert 0 < int8['error'] < (1 if name.startswith('UniFormer') else 0.1) and int8['peak'] > 0
