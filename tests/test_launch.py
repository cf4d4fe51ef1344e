"""Distributed set-up on CPU-only machines, the SyncBN switch of GPU configs, and reading a run's metrics."""
import json

import pytest
import torch
from mmengine.config import Config
from mmengine.model import convert_sync_batchnorm
from mmengine.registry import MODEL_WRAPPERS

from uniformer_mm.launch import (CPUDistributedDataParallel, load_run_config, newest_test_metrics,
                                 prepare_distributed)
from uniformer_mm.models import build_model_from_config



def test_single_process_runs_are_left_alone():
    cfg = Config(dict(model=dict()))
    prepare_distributed(cfg, 'none')
    assert cfg.launcher == 'none' and 'model_wrapper_cfg' not in cfg


@pytest.mark.skipif(torch.cuda.is_available(), reason='the CPU path only applies without a GPU')
def test_cpu_launch_needs_torchrun_environment(monkeypatch):
    monkeypatch.delenv('LOCAL_RANK', raising=False)
    with pytest.raises(RuntimeError, match='tools/dist_train.sh'):
        prepare_distributed(Config(dict()), 'pytorch')
    with pytest.raises(ValueError, match="support launcher 'pytorch'"):
        prepare_distributed(Config(dict()), 'slurm')


def test_cpu_wrapper_is_registered_for_every_codebase():
    assert MODEL_WRAPPERS.get('CPUDistributedDataParallel') is CPUDistributedDataParallel
    from mmseg.registry import MODEL_WRAPPERS as SEG_WRAPPERS
    assert SEG_WRAPPERS.get('CPUDistributedDataParallel') is CPUDistributedDataParallel


def test_sync_bn_option_converts_every_backbone_batchnorm():
    # `--cfg-options sync_bn=torch` makes mmengine's Runner call convert_sync_batchnorm on distributed runs;
    # the local blocks of stages 1-2 must use plain BatchNorm for it to reach them.
    model = build_model_from_config(Config.fromfile('configs/mmdet/mask-rcnn_uniformer-s-h14_fpn_1x_coco.py'))
    batchnorms = [n for n, m in model.backbone.named_modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(batchnorms) == 2 * (3 + 4)  # stages 1-2 blocks: one before the MHRA, one before the FFN
    converted = convert_sync_batchnorm(model, implementation='torch')
    synced = [n for n, m in converted.backbone.named_modules() if isinstance(m, torch.nn.SyncBatchNorm)]
    assert synced == batchnorms


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
