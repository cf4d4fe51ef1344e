"""The light UniFormer XXS / XS: exact equality with an independent re-statement of the release
(tests/reference_light.py) for images, dense prediction and video, in eval and train mode; state that travels with
the forward pass; parameter counts of the release; errors."""
import threading
from pathlib import Path

import pytest
import torch

from uniformer_mm import UniFormer2D, UniFormer3D
from uniformer_mm.apis import build_model_from_config, imagenet_to_mmpretrain, slowfast_video_to_mmaction
from uniformer_mm.models.backbones.uniformer import MultiheadSelfAttention, TokenPruningBlock

from helpers import count_params, randomize_, sharpen_attention_
from reference_light import RefLightUniFormer

CLASSIFIER_PARTS = ('head', 'head_cls', 'norm_cls')
CONFIGS = Path(__file__).resolve().parents[2] / 'configs'


def reference(arch, seed=1, **kwargs):
    """The reference with random weights whose attention is sharp enough that no two token scores tie to within
    float rounding: with near-uniform attention the ranking, and so which tokens are pruned, would be decided by
    the last bit of the arithmetic, in the release as here."""
    model = RefLightUniFormer(arch, **kwargs)
    randomize_(model, seed)
    return sharpen_attention_(model)


def backbone_of(ref, model):
    model.load_state_dict({k: v for k, v in ref.state_dict().items() if k.split('.')[0] not in CLASSIFIER_PARTS})
    return model


def assert_same(actual, expected):
    torch.testing.assert_close(actual, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.slow
@pytest.mark.parametrize('arch, size', [('xxs', (256, 320)), ('xs', (192, 160))])
@pytest.mark.parametrize('training', [False, True])
def test_dense_backbone_equals_reference(arch, size, training):
    ref = reference(arch, dense=True).train(training)
    model = backbone_of(ref, UniFormer2D(arch=arch)).train(training)
    image = torch.randn(2, 3, *size)
    with torch.no_grad():
        for ours, theirs in zip(model(image), ref(image)):
            assert_same(ours, theirs)


@pytest.mark.parametrize('arch, size', [('xxs', 224), pytest.param('xs', 160, marks=pytest.mark.slow)])
@pytest.mark.parametrize('training', [False, True])
def test_classifier_backbone_equals_reference(arch, size, training):
    ref = reference(arch).train(training)
    model = backbone_of(ref, UniFormer2D(arch=arch, out_indices=(3, ), out_norm='batch', with_cls_token=True))
    model.train(training)
    image = torch.randn(2, 3, size, size)
    with torch.no_grad():
        feature_map, cls_token = model(image)
        maps, ref_cls, _ = ref.forward_features(image)
        assert_same(feature_map, ref.norm(maps[-1]))
        assert_same(cls_token, ref_cls[:, 0])
        if not training:
            assert_same(ref.head(feature_map.flatten(2).mean(-1)), ref(image))


@pytest.mark.slow
@pytest.mark.parametrize('arch, frames, size, layer_scale', [
    ('xxs', 4, 128, None), ('xs', 8, 160, None), ('xxs_ls', 4, 128, 0.1)])
@pytest.mark.parametrize('training', [False, True])
def test_video_backbone_equals_reference(arch, frames, size, layer_scale, training):
    ref = reference(arch[:3].rstrip('_'), ndim=3, layer_scale=layer_scale).train(training)
    model = backbone_of(ref, UniFormer3D(arch=arch, with_cls_token=True)).train(training)
    clip = torch.randn(2, 3, frames, size, size)
    with torch.no_grad():
        feature_map, cls_token = model(clip)
        maps, ref_cls, _ = ref.forward_features(clip)
    assert feature_map.shape[2] == frames // 2
    assert_same(feature_map, ref.norm(maps[-1]))
    assert_same(cls_token, ref_cls[:, 0])


@pytest.mark.parametrize('model, expected', [
    (lambda: UniFormer2D(arch='xxs'), 9_317_168),
    (lambda: UniFormer2D(arch='xs'), 15_483_136),
    (lambda: UniFormer3D(arch='xxs'), 9_833_896 - 2 * (448 * 400 + 400) - 2 * 448),
    (lambda: UniFormer3D(arch='xs'), 16_099_552 - 2 * (512 * 400 + 400) - 2 * 512),
    (lambda: UniFormer3D(arch='xxs_ls'), 9_840_616 - 2 * (448 * 400 + 400) - 2 * 448),
])
def test_parameter_counts_equal_the_release(model, expected):
    # The release's dense backbones; its Kinetics classifiers less head, head_cls and norm_cls.
    assert count_params(model()) == expected


@pytest.mark.parametrize('arch, expected', [('xxs', 10_215_280), ('xs', 16_509_264)])
def test_imagenet_classifier_size(arch, expected):
    backbone = UniFormer2D(arch=arch, out_indices=(3, ), out_norm='batch')
    width = backbone.embed_dims[-1]
    assert count_params(backbone) + 2 * (width * 1000 + 1000) + 2 * width == expected


def test_two_models_in_alternation_equal_each_alone():
    first = backbone_of(reference('xxs', seed=1, dense=True), UniFormer2D(arch='xxs')).eval()
    second = backbone_of(reference('xxs', seed=2, dense=True), UniFormer2D(arch='xxs')).eval()
    images = [torch.randn(2, 3, 128, 160), torch.randn(1, 3, 96, 96)]
    with torch.no_grad():
        alone = [first(images[0])[-1], second(images[1])[-1]]
        interleaved = [first(images[0])[-1], second(images[1])[-1], first(images[0])[-1]]
    for ours, theirs in zip(interleaved, alone + alone[:1]):
        torch.testing.assert_close(ours, theirs, rtol=0, atol=0)


def test_two_threads_share_nothing():
    model = backbone_of(reference('xxs', dense=True), UniFormer2D(arch='xxs')).eval()
    images = [torch.randn(1, 3, 128, 128), torch.randn(1, 3, 160, 96)]
    with torch.no_grad():
        expected = [model(image)[-1] for image in images]
    results = {}

    def run(index):
        with torch.no_grad():
            results[index] = [model(images[index])[-1] for _ in range(3)]

    threads = [threading.Thread(target=run, args=(i, )) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for index, outputs in results.items():
        for output in outputs:
            torch.testing.assert_close(output, expected[index], rtol=0, atol=0)


def test_token_scores_stay_float32_under_autocast():
    attention = MultiheadSelfAttention(32, 2, precision="input")
    tokens = torch.randn(2, 10, 32)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out, first_row = attention.attend(tokens, with_first_row=True)
    assert first_row.dtype == torch.float32
    torch.testing.assert_close(first_row.sum(-1), torch.ones(2))


def test_pruning_block_attends_with_half_the_tokens_and_keeps_the_map():
    block = TokenPruningBlock(32, 2, keep_ratio=0.5).eval()
    lengths = []
    block.attn.qkv.register_forward_hook(lambda module, args, out: lengths.append(args[0].shape[1]))
    x, cls_token, scores = torch.randn(2, 32, 6, 8), torch.randn(2, 1, 32), torch.rand(2, 48)
    out, new_cls, new_scores = block(x, cls_token, scores)
    assert lengths == [1 + 24 + 1]  # the class token, the 24 best-ranked of 48 tokens, their stand-in for the rest
    assert out.shape == x.shape and new_cls.shape == cls_token.shape and new_scores.shape == scores.shape
    order = scores.argsort(dim=1, descending=True)
    dropped = order[:, 24:]
    torch.testing.assert_close(new_scores.gather(1, dropped), scores.gather(1, dropped), rtol=0, atol=0)


@pytest.mark.slow
def test_with_cp_gives_the_same_outputs_and_gradients():
    ref = reference('xxs', dense=True)
    plain = backbone_of(ref, UniFormer2D(arch='xxs')).train()
    checkpointed = backbone_of(ref, UniFormer2D(arch='xxs', with_cp=True)).train()
    image = torch.randn(2, 3, 128, 128)
    outs = [sum(o.sum() for o in model(image)) for model in (plain, checkpointed)]
    assert_same(outs[1], outs[0])
    for out in outs:
        out.backward()
    assert_same(checkpointed.cls_token.grad, plain.cls_token.grad)
    assert_same(checkpointed.blocks3[3].attn.qkv.weight.grad, plain.blocks3[3].attn.qkv.weight.grad)


def test_frozen_stages_freeze_the_class_token_with_stage_3_and_its_projection_with_stage_4():
    three = UniFormer2D(arch='xxs', frozen_stages=3).train()
    assert not three.cls_token.requires_grad and three.cls_upsample.weight.requires_grad
    four = UniFormer2D(arch='xxs', frozen_stages=4).train()
    assert not four.cls_upsample.weight.requires_grad


@pytest.mark.parametrize('build, match', [
    (lambda: UniFormer2D(arch='xxs', attn_mode='hybrid'), "attends with token pruning; attn_mode must be 'global'"),
    (lambda: UniFormer2D(arch='small', with_cls_token=True), 'with_cls_token needs a light arch'),
    (lambda: UniFormer2D(arch='xxs', out_indices=(0, 1), with_cls_token=True), 'the last stage must run'),
    (lambda: TokenPruningBlock(16, 2, keep_ratio=0), r'keep_ratio must be in \(0, 1\]'),
])
def test_bad_arguments(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_a_pruning_block_without_scores_says_why():
    block = TokenPruningBlock(16, 2, keep_ratio=0.5)
    with pytest.raises(ValueError, match='needs the scores of an earlier block'):
        block(torch.randn(1, 16, 4, 4), torch.randn(1, 1, 16), None)


def test_imagenet_light_classifier_converted_equals_reference():
    ref = reference('xxs').eval()
    model = build_model_from_config(str(CONFIGS / 'mmpretrain/uniformer-xxs_8xb512_in1k-128px.py'))
    converted = imagenet_to_mmpretrain(dict(model=ref.state_dict()), model, 'uniformer_xxs_128_in1k.pth')
    assert converted['meta']['converted_from'] == 'UniFormer ImageNet release (light)'
    image = torch.randn(2, 3, 128, 128)
    with torch.no_grad():
        assert_same(model.eval()(image, mode='tensor'), ref(image))


def test_light_checkpoint_into_a_standard_config_is_refused():
    from uniformer_mm import CheckpointMismatchError
    model = build_model_from_config(str(CONFIGS / 'mmpretrain/uniformer-small_8xb128_in1k.py'))
    with pytest.raises(CheckpointMismatchError, match='is a light ImageNet checkpoint .* uniformer-xxs / uniformer-xs'):
        imagenet_to_mmpretrain(dict(model=reference('xxs').state_dict()), model)


def test_mmpretrain_light_head_trains_both_classifiers_and_predicts_with_the_pooled_one():
    from mmengine.registry import DefaultScope
    from mmpretrain.structures import DataSample

    from uniformer_mm.models.heads.classification import UniFormerLightClsHead

    # The loss is built in the current default scope, which a Runner of another codebase may have left.
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        head = UniFormerLightClsHead(num_classes=5, in_channels=8, loss=dict(type='CrossEntropyLoss'))
    feats = (torch.randn(3, 8, 2, 2), torch.randn(3, 8))
    samples = [DataSample().set_gt_label(i) for i in (0, 3, 4)]
    pooled = head.fc(feats[0].flatten(2).mean(-1))
    token = head.fc_token(head.norm_token(feats[1]))
    labels = torch.tensor([0, 3, 4])
    expected = 0.5 * torch.nn.functional.cross_entropy(pooled, labels) + \
        0.5 * torch.nn.functional.cross_entropy(token, labels)
    torch.testing.assert_close(head.loss(feats, samples)['loss'], expected)
    torch.testing.assert_close(head(feats), pooled)
    with pytest.raises(ValueError, match='with_cls_token=True and no neck'):
        head((feats[0], ))


@pytest.mark.slow
def test_mmaction_light_recognizer_trains_both_classifiers_and_tests_with_the_pooled_one():
    from mmaction.registry import MODELS
    from mmaction.structures import ActionDataSample
    from mmengine.registry import DefaultScope

    import uniformer_mm.models.heads.recognition  # noqa: F401  (registers UniFormerLightHead)
    with DefaultScope.overwrite_default_scope('mmaction'):
        recognizer = MODELS.build(dict(
            type='Recognizer3D',
            backbone=dict(type='UniFormer3D', arch='xxs', with_cls_token=True),
            cls_head=dict(type='UniFormerLightHead', num_classes=4, in_channels=448, average_clips='prob'),
            data_preprocessor=dict(type='ActionDataPreprocessor', format_shape='NCTHW')))
    recognizer.init_weights()
    clips = torch.randn(2, 1, 3, 4, 64, 64)  # (batch, clips, C, T, H, W)
    samples = [ActionDataSample().set_gt_label(label) for label in (1, 3)]
    losses = recognizer(clips, samples, mode='loss')
    feature_map, cls_token = recognizer.backbone(clips[:, 0])
    head = recognizer.cls_head
    labels = torch.tensor([1, 3])
    expected = 0.5 * torch.nn.functional.cross_entropy(head.fc_cls(feature_map.flatten(2).mean(-1)), labels) + \
        0.5 * torch.nn.functional.cross_entropy(head.fc_token(head.norm_token(cls_token)), labels)
    torch.testing.assert_close(losses['loss_cls'], expected)
    recognizer.eval()
    with torch.no_grad():
        predictions = recognizer(clips, [ActionDataSample().set_gt_label(0) for _ in range(2)], mode='predict')
        scores = head.fc_cls(recognizer.backbone(clips[:, 0])[0].flatten(2).mean(-1)).softmax(-1)
    torch.testing.assert_close(torch.stack([p.pred_score for p in predictions]), scores)


@pytest.mark.slow
def test_kinetics_light_checkpoint_converts_to_the_release_classifier():
    from mmaction.registry import MODELS
    from mmengine.registry import DefaultScope

    import uniformer_mm.models.heads.recognition  # noqa: F401  (registers UniFormerLightHead)
    ref = reference('xxs', ndim=3, layer_scale=0.1).eval()
    converted = slowfast_video_to_mmaction(dict(model_state=ref.state_dict(), epoch=110))
    assert (converted['meta']['arch'], converted['meta']['head']) == ('xxs_ls', 'UniFormerLightHead')
    with DefaultScope.overwrite_default_scope('mmaction'):
        recognizer = MODELS.build(dict(
            type='Recognizer3D',
            backbone=dict(type='UniFormer3D', arch='xxs_ls', with_cls_token=True),
            cls_head=dict(type='UniFormerLightHead', num_classes=400, in_channels=448)))
    recognizer.load_state_dict(converted['state_dict'], strict=True)
    clip = torch.randn(1, 3, 4, 96, 96)
    with torch.no_grad():
        ours = recognizer.cls_head(recognizer.eval().backbone(clip))
        assert_same(ours, ref(clip))


def test_imagenet_light_weights_inflate_into_the_video_model(tmp_path):
    ref = reference('xxs')
    path = tmp_path / 'uniformer_xxs_128_in1k.pth'
    torch.save(dict(model=ref.state_dict()), path)
    video = UniFormer3D(arch='xxs', init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    video.init_weights()
    stem = ref.state_dict()['patch_embed1.proj.0.weight']
    inflated = video.state_dict()['patch_embed1.proj.0.weight']
    assert inflated.shape == stem.shape[:2] + (3, ) + stem.shape[2:]
    torch.testing.assert_close(inflated.sum(dim=2), stem)
    torch.testing.assert_close(video.cls_token, ref.cls_token)
