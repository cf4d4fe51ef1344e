"""The ImageNet classifiers (mmpretrain ImageClassifier + UniFormer2D(out_norm='batch')) against an independent
re-statement of the release, on fabricated checkpoints in the official layouts, converted as a user would."""
import pytest
import torch

from uniformer_mm import CheckpointMismatchError, UniFormer2D
from uniformer_mm.apis import build_model_from_config, imagenet_to_mmpretrain

from helpers import ROOT, count_params, fabricate_official_state_dict, official_param_count, randomize_
from reference_uniformer import RefImageNetUniFormer

CONFIGS = ROOT / 'configs/mmpretrain'
WIDE = (64, 128, 320, 512)
# config, reference model arguments, official key list (None: the token-labeling layouts, not in official_keys)
STANDARD = {
    'small': ('uniformer-small_8xb128_in1k.py', dict(depths=(3, 4, 8, 3)), 'image_small_in1k'),
    'small_plus': ('uniformer-small-plus_8xb128_in1k.py', dict(depths=(3, 5, 9, 3), head_dim=32, conv_stem=True),
                   'image_small_plus_in1k'),
    'small_plus_dim64': ('uniformer-small-plus-dim64_8xb128_in1k.py', dict(depths=(3, 5, 9, 3), conv_stem=True),
                         'image_small_plus_dim64_in1k'),
    'base': ('uniformer-base_8xb128_in1k.py', dict(depths=(5, 8, 20, 7)), 'image_base_in1k'),
    'base_ls': ('uniformer-base-ls_8xb128_in1k.py', dict(depths=(5, 8, 20, 7), layer_scale=1e-6),
                'image_base_ls_in1k'),
}
TOKEN_LABELING = {
    'small_dim32': ('uniformer-small-tl_8xb128_in1k.py', dict(depths=(3, 4, 8, 3), head_dim=32)),
    'small_plus': ('uniformer-small-plus-tl_8xb128_in1k.py', dict(depths=(3, 5, 9, 3), head_dim=32, conv_stem=True)),
    'large_ls': ('uniformer-large-ls-tl_8xb128_in1k.py',
                 dict(depths=(5, 10, 24, 7), dims=(128, 192, 448, 640), layer_scale=1e-6, local_layer_scale=True)),
}


def classifier(config: str):
    return build_model_from_config(str(CONFIGS / config))


def logits(model, images):
    """Class scores of a reference model, or of an mmpretrain classifier in tensor mode (no preprocessing)."""
    with torch.no_grad():
        model.eval()
        return model(images) if isinstance(model, RefImageNetUniFormer) else model(images, mode='tensor')


@pytest.mark.slow
@pytest.mark.parametrize('arch', sorted(STANDARD))
def test_standard_release_equals_reference(arch):
    config, ref_args, layout = STANDARD[arch]
    official = fabricate_official_state_dict(layout)
    reference = RefImageNetUniFormer(**ref_args)
    reference.load_state_dict(official, strict=True)
    model = classifier(config)
    assert count_params(model) == official_param_count(layout)
    imagenet_to_mmpretrain(dict(model=official), model, source='uniformer_checkpoint.pth')
    images = torch.randn(2, 3, 96, 128)
    torch.testing.assert_close(logits(model, images), logits(reference, images), rtol=1e-5, atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize('arch', sorted(TOKEN_LABELING))
def test_token_labeling_release_equals_reference(arch):
    config, ref_args = TOKEN_LABELING[arch]
    reference = RefImageNetUniFormer(token_labeling=True, **ref_args)
    randomize_(reference)  # random layer scales and BatchNorm statistics too
    model = classifier(config)
    assert count_params(model) == count_params(reference)
    imagenet_to_mmpretrain(dict(model=reference.state_dict()), model, source='tl_checkpoint.pth')
    images = torch.randn(2, 3, 64, 96)
    expected = logits(reference, images)
    torch.testing.assert_close(logits(model, images), expected, rtol=1e-5, atol=1e-5)
    # The dense classifier counts: without it the scores differ.
    model.head.aux_weight = 0.
    assert not torch.allclose(logits(model, images), expected, rtol=1e-3, atol=1e-3)


@pytest.mark.slow
@pytest.mark.parametrize('arch, expected', [('small_dim32', 22_058_256), ('large_ls', 100_103_888)])
def test_token_labeling_parameter_counts_equal_the_release(arch, expected):
    config, _ = TOKEN_LABELING[arch]
    assert count_params(classifier(config)) == expected


def test_token_labeling_checkpoint_into_a_standard_config_is_refused():
    reference = RefImageNetUniFormer(depths=(3, 4, 8, 3), head_dim=32, token_labeling=True)
    with pytest.raises(CheckpointMismatchError,
                       match='is a token-labeling ImageNet checkpoint .*LinearClsHead.* use a uniformer-.*-tl config'):
        imagenet_to_mmpretrain(dict(model=reference.state_dict()), classifier(STANDARD['small'][0]))


def test_standard_checkpoint_into_a_token_labeling_config_is_refused():
    official = fabricate_official_state_dict('image_small_in1k')
    with pytest.raises(CheckpointMismatchError,
                       match='is a standard ImageNet checkpoint .*TokenLabelingClsHead.* without -tl'):
        imagenet_to_mmpretrain(dict(model=official), classifier(TOKEN_LABELING['small_dim32'][0]))


def test_wrong_arch_names_keys_and_layouts():
    official = fabricate_official_state_dict('image_base_in1k')
    with pytest.raises(CheckpointMismatchError) as error:
        imagenet_to_mmpretrain(dict(model=official), classifier(STANDARD['small'][0]), 'b.pth')
    message = str(error.value)
    assert 'b.pth does not fit' in message and 'not in the model: backbone.blocks1.3.' in message
    assert 'depths (5, 8, 20, 7)' in message and 'depths (3, 4, 8, 3)' in message


@pytest.mark.slow
def test_released_file_with_another_head_dim_is_refused():
    # small_plus (head_dim 32) and small_plus_dim64 share every shape: only the released name tells them apart.
    official = fabricate_official_state_dict('image_small_plus_in1k')
    model = classifier(STANDARD['small_plus_dim64'][0])
    with pytest.raises(CheckpointMismatchError, match="uniformer_small_plus_in1k .*head_dim 32.* head_dim 64"):
        imagenet_to_mmpretrain(dict(model=official), model, '/downloads/uniformer_small_plus_in1k.pth')
    converted = imagenet_to_mmpretrain(dict(model=official), classifier(STANDARD['small_plus'][0]),
                                       '/downloads/uniformer_small_plus_in1k.pth')
    assert converted['meta']['head_dim'] == 32
    assert len(converted['meta']['dataset_meta']['classes']) == 1000


@pytest.mark.parametrize('name', ['uniformer_small_plus_in1k', '{tmp}/uniformer_small_plus_in1k.pth'])
def test_init_cfg_refuses_a_released_checkpoint_of_another_head_dim(tmp_path, name):
    # As the converter does: the file would load without a shape error and give wrong outputs.
    torch.save(dict(model=fabricate_official_state_dict('image_small_plus_in1k')),
               tmp_path / 'uniformer_small_plus_in1k.pth')
    backbone = UniFormer2D(arch='small_plus_dim64', out_indices=(3, ), out_norm='batch',
                           init_cfg=dict(type='Pretrained', checkpoint=name.format(tmp=tmp_path)))
    with pytest.raises(CheckpointMismatchError, match=r"uniformer_small_plus_in1k .*head_dim 32.* head_dim 64"):
        backbone.init_weights()
    assert not backbone.is_init


def test_backbone_checkpoint_is_not_a_classifier():
    backbone = {k: v for k, v in fabricate_official_state_dict('image_small_in1k').items()
                if not k.startswith('head.')}
    with pytest.raises(CheckpointMismatchError, match='not an ImageNet classifier: it has no head.weight'):
        imagenet_to_mmpretrain(dict(model=backbone), classifier(STANDARD['small'][0]))


def test_classification_backbone_loads_imagenet_weights_through_init_cfg(tmp_path):
    official = fabricate_official_state_dict('image_small_in1k')
    torch.save(dict(model=official), tmp_path / 'in1k.pth')
    backbone = UniFormer2D(out_indices=(3, ), out_norm='batch',
                           init_cfg=dict(type='Pretrained', checkpoint=str(tmp_path / 'in1k.pth')))
    backbone.init_weights()
    own = backbone.state_dict()
    for key in ('norm.running_var', 'norm.weight', 'blocks4.2.attn.qkv.weight', 'patch_embed1.proj.weight'):
        torch.testing.assert_close(own[key], official[key], rtol=0, atol=0)


def test_classification_backbone_refuses_a_dense_prediction_checkpoint(tmp_path):
    dense = fabricate_official_state_dict('detseg_backbone_small')
    torch.save(dict(state_dict={f'backbone.{k}': v for k, v in dense.items()}), tmp_path / 'det.pth')
    backbone = UniFormer2D(out_indices=(3, ), out_norm='batch',
                           init_cfg=dict(type='Pretrained', checkpoint=str(tmp_path / 'det.pth')))
    with pytest.raises(CheckpointMismatchError, match='missing from the checkpoint: norm.weight'):
        backbone.init_weights()


@pytest.mark.parametrize('kwargs, match', [
    (dict(out_norm='batch'), r"out_norm='batch' .* needs out_indices=\(3, \)"),
    (dict(out_norm='group'), "unknown out_norm 'group'"),
])
def test_bad_out_norm_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        UniFormer2D(**kwargs)


def test_token_labeling_head_needs_the_feature_map():
    model = classifier(TOKEN_LABELING['small_dim32'][0])
    with pytest.raises(ValueError, match=r'expects a \(B, 512, H, W\) feature map .* got shape \(2, 512\)'):
        model.head((torch.randn(2, 512), ))


def test_frozen_stages_4_freezes_the_final_batchnorm_too():
    tiny = dict(depths=(1, 1, 1, 1), embed_dims=(16, 32, 64, 64), head_dim=16)
    backbone = UniFormer2D(arch=tiny, out_indices=(3, ), out_norm='batch', frozen_stages=4).train()
    assert not backbone.norm.training and not any(p.requires_grad for p in backbone.parameters())
    partly = UniFormer2D(arch=tiny, out_indices=(3, ), out_norm='batch', frozen_stages=3).train()
    assert partly.norm.training and partly.norm.weight.requires_grad and partly.blocks4[0].norm1.weight.requires_grad
