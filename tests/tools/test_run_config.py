"""What tools/train.py and tools/test.py run on: uniformer_mm.apis' config loading and metrics reading, and the
cluster launcher script."""
import json
import os
import subprocess

import pytest

from uniformer_mm.apis import load_run_config, newest_test_metrics

from helpers import ROOT


def test_run_config_takes_overrides_and_a_default_work_dir():
    config = 'configs/mmseg/toy/fpn_uniformer-s-h14_toy-shapes-160x160.py'
    cfg = load_run_config(config, cfg_options={'train_cfg.max_iters': 3})
    assert cfg.train_cfg.max_iters == 3
    assert cfg.work_dir == 'work_dirs/fpn_uniformer-s-h14_toy-shapes-160x160'
    assert load_run_config(config, work_dir='elsewhere').work_dir == 'elsewhere'


def test_newest_test_metrics_reads_the_newest_test_run(tmp_path):
    def write(run: str, relative: str, *records: dict) -> None:
        path = tmp_path / run / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(''.join(json.dumps(r) + '\n' for r in records))

    write('20260101_000000', '20260101_000000.json', {'mIoU': 10.0})
    write('20260102_000000', '20260102_000000.json', {'coco/AP': 0.5})
    write('20260103_000000', 'vis_data/20260103_000000.json', {'loss': 1.0}, {'mIoU': 99.0})  # a training run
    assert newest_test_metrics(tmp_path) == {'coco/AP': 0.5}
    assert newest_test_metrics(tmp_path, 'mIoU') == {'mIoU': 10.0}
    with pytest.raises(FileNotFoundError, match='reported acc/top1'):
        newest_test_metrics(tmp_path, 'acc/top1')


def test_slurm_script_runs_the_train_tool_under_srun(tmp_path):
    # A stand-in srun that records its arguments: what a Slurm cluster would be asked to run.
    (tmp_path / 'srun').write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$SRUN_LOG"\n')
    (tmp_path / 'srun').chmod(0o755)
    env = dict(os.environ, PATH=f"{tmp_path}:{os.environ['PATH']}", SRUN_LOG=str(tmp_path / 'args'), GPUS='16',
               SRUN_ARGS='--quotatype=auto')
    subprocess.run(['bash', str(ROOT / 'tools/slurm_train.sh'), 'gpu', 'job', 'cfg.py', 'work', '--resume'],
                   env=env, check=True)
    args = (tmp_path / 'args').read_text().split('\n')
    assert args[:8] == ['-p', 'gpu', '--job-name=job', '--gres=gpu:8', '--ntasks=16', '--ntasks-per-node=8',
                        '--cpus-per-task=5', '--kill-on-bad-exit=1']
    assert args[8] == '--quotatype=auto' and args[10] == '-u' and args[11] == str(ROOT / 'tools/train.py')
    assert args[12:18] == ['cfg.py', '--work-dir', 'work', '--launcher', 'slurm', '--resume']
