"""uniformer_mm.engine: distributed set-up on CPU-only machines and the SyncBN switch of GPU configs."""
import pytest
import torch
from mmengine.config import Config
from mmengine.model import convert_sync_batchnorm
from mmengine.registry import MODEL_WRAPPERS

from uniformer_mm.apis import build_model_from_config
from uniformer_mm.engine import CPUDistributedDataParallel, prepare_distributed


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
