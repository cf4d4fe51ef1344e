"""``switch_to_deploy()``: BatchNorms folded into the adjacent convolutions and the position embedding's identity
into its kernel, with outputs equal to the unfolded model's."""
import copy

import pytest
import torch

from uniformer_mm import UniFormer2D, UniFormer3D

from helpers import randomize_, sharpen_attention_


def built(build):
    model = build()
    randomize_(model)
    return sharpen_attention_(model).eval()


@pytest.mark.slow
@pytest.mark.parametrize('build, shape', [
    (lambda: UniFormer2D(arch='small', attn_mode='hybrid'), (2, 3, 128, 160)),
    (lambda: UniFormer2D(arch='small_plus'), (1, 3, 96, 128)),
    (lambda: UniFormer2D(arch='large_ls', out_indices=(3, ), out_norm='batch'), (1, 3, 64, 64)),
    (lambda: UniFormer2D(arch='xxs'), (1, 3, 128, 128)),
    (lambda: UniFormer3D(arch='small'), (1, 3, 4, 64, 64)),
    (lambda: UniFormer3D(arch='xxs_ls', with_cls_token=True), (1, 3, 4, 96, 96)),
], ids=['s-h14', 's+', 'l-ls-classifier', 'xxs', 'video-s', 'video-xxs-ls'])
def test_deployed_outputs_equal_the_unfolded_model(build, shape):
    model = built(build)
    deployed = copy.deepcopy(model)
    deployed.switch_to_deploy()
    inputs = torch.randn(shape)
    with torch.no_grad():
        expected, actual = model(inputs), deployed(inputs)
    for out, ref in zip(*(o if isinstance(o, tuple) else (o, ) for o in (actual, expected))):
        torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-5 * float(ref.abs().max()))


def test_every_batch_norm_but_the_output_norm_is_folded():
    model = UniFormer3D(arch='xxs').eval()
    model.switch_to_deploy()
    batch_norms = [name for name, module in model.named_modules()
                   if isinstance(module, torch.nn.modules.batchnorm._BatchNorm)]
    assert batch_norms == ['norm']
    assert all(block.position_folded for stage in (model.blocks1, model.blocks3) for block in stage)


def test_a_deployed_backbone_refuses_to_train_and_folds_once():
    model = UniFormer2D(arch='small', out_indices=(0, )).eval()
    model.switch_to_deploy()
    weight = model.blocks1[0].pos_embed.weight.clone()
    model.switch_to_deploy()
    torch.testing.assert_close(model.blocks1[0].pos_embed.weight, weight)
    with pytest.raises(RuntimeError, match='deploy mode'):
        model.train()


def test_the_pose_estimators_switch_to_deploy_folds_the_backbone_once():
    """mmpose's ``BasePoseEstimator.switch_to_deploy`` (which mmdeploy calls after folding the backbone itself)
    passes its test_cfg to every sub-module with that method: the backbone must take it and the blocks must not
    fold a second time."""
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmpose.registry import MODELS

    cfg = Config.fromfile('configs/mmpose/td-hm_uniformer-s_8xb128-210e_coco-256x192.py')
    cfg.model.backbone.init_cfg = None
    with DefaultScope.overwrite_default_scope('mmpose'):
        model = MODELS.build(cfg.model)
    randomize_(model)
    model.eval()
    deployed = copy.deepcopy(model)
    deployed.backbone.switch_to_deploy()
    deployed.switch_to_deploy()
    inputs = torch.randn(1, 3, 128, 96)
    with torch.no_grad():
        expected, actual = model(inputs, None, mode='tensor'), deployed(inputs, None, mode='tensor')
    torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-5 * float(expected.abs().max()))
