"""Half precision for every arch: the model cast to bfloat16 / float16 (``model.to(dtype)``, ``.half()``, as
mmdet's and mmdeploy's fp16 inference do) and autocast, forward and backward, close to float32; what the attention
is computed in (``attn_precision``)."""
import pytest
import torch
import torch.nn.functional as F

from uniformer_mm import UniFormer2D, UniFormer3D
from uniformer_mm.models.backbones.uniformer import MultiheadSelfAttention

from reference_uniformer import naive_attention

HALF = [torch.bfloat16, torch.float16]
# Relative error of the outputs against float32 (||half - fp32|| / ||fp32||), from bfloat16's 8-bit and
# float16's 11-bit significands over up to 44 blocks; the worst measured was about a third of these.
TOLERANCE = {torch.bfloat16: 5e-2, torch.float16: 1e-2}

# (backbone, kwargs, input shape): every layout the releases use. The fast tier keeps one of each family.
FAST = [
    (UniFormer2D, dict(arch='small', attn_mode='hybrid', window_size=4), (2, 3, 96, 96)),
    (UniFormer2D, dict(arch='xxs', with_cls_token=True), (2, 3, 64, 64)),
    (UniFormer3D, dict(arch='small'), (2, 3, 4, 64, 64)),
    (UniFormer3D, dict(arch='xxs', with_cls_token=True), (2, 3, 4, 64, 64)),
]
SLOW = [
    (UniFormer2D, dict(arch='small'), (2, 3, 64, 64)),
    (UniFormer2D, dict(arch='small', attn_mode='window', window_size=4), (2, 3, 96, 96)),
    (UniFormer2D, dict(arch='small_plus'), (2, 3, 64, 64)),
    (UniFormer2D, dict(arch='small_plus_dim64', out_indices=(3, ), out_norm='batch'), (2, 3, 64, 64)),
    (UniFormer2D, dict(arch='base'), (2, 3, 64, 64)),
    (UniFormer2D, dict(arch='base_ls', out_indices=(3, ), out_norm='batch'), (2, 3, 64, 64)),
    (UniFormer2D, dict(arch='small_dim32', out_indices=(3, ), out_norm='batch'), (2, 3, 64, 64)),
    (UniFormer2D, dict(arch='base_dim32'), (2, 3, 64, 64)),
    (UniFormer2D, dict(arch='large_ls', out_indices=(3, ), out_norm='batch'), (2, 3, 64, 64)),
    (UniFormer2D, dict(arch='xs', with_cls_token=True), (2, 3, 64, 64)),
    (UniFormer3D, dict(arch='base'), (2, 3, 4, 64, 64)),
    (UniFormer3D, dict(arch='xs', with_cls_token=True), (2, 3, 4, 64, 64)),
    (UniFormer3D, dict(arch='xxs_ls', with_cls_token=True), (2, 3, 4, 64, 64)),
]


def case_id(backbone, kwargs, dtype):
    options = [f'{value}' for key, value in kwargs.items() if key in ('attn_mode', 'out_norm')]
    return '-'.join([backbone.__name__[-2:].lower(), kwargs['arch'], *options, str(dtype)[6:]])


# The fast tier runs each family in bfloat16; float16, slow on CPUs without AMX-FP16, and the other layouts run
# in the slow tier.
CASES = [
    pytest.param(*case, dtype, id=case_id(case[0], case[1], dtype),
                 marks=() if case in FAST and dtype == torch.bfloat16 else pytest.mark.slow)
    for case in FAST + SLOW for dtype in HALF
]


def as_tuple(outputs):
    return outputs if isinstance(outputs, tuple) else (outputs, )


def assert_close_to_float32(outputs, reference, dtype):
    for output, expected in zip(as_tuple(outputs), as_tuple(reference)):
        assert torch.isfinite(output).all()
        error = ((output.float() - expected).norm() / expected.norm()).item()
        assert error < TOLERANCE[dtype], f'relative error {error:.2e} in {dtype}'


def build(backbone, kwargs):
    torch.manual_seed(0)
    return backbone(**kwargs).eval()


@pytest.mark.parametrize('backbone, kwargs, shape, dtype', CASES)
def test_model_cast_to_half_precision_runs_forward_and_backward_close_to_float32(backbone, kwargs, shape, dtype):
    model = build(backbone, kwargs)
    torch.manual_seed(1)
    inputs = torch.randn(shape)
    with torch.no_grad():
        reference = model(inputs)
    model.to(dtype)
    outputs = model(inputs.to(dtype))
    assert all(output.dtype == dtype for output in as_tuple(outputs))
    assert_close_to_float32(outputs, reference, dtype)
    sum(output.float().mean() for output in as_tuple(outputs)).backward()
    last_attention = model.blocks4[-1].attn.qkv.weight.grad
    assert last_attention.dtype == dtype and torch.isfinite(last_attention).all()


@pytest.mark.parametrize('backbone, kwargs, shape, dtype', CASES)
def test_autocast_runs_forward_and_backward_close_to_float32(backbone, kwargs, shape, dtype):
    model = build(backbone, kwargs).train()
    torch.manual_seed(1)
    inputs = torch.randn(shape)
    reference = model(inputs)
    model.zero_grad()
    with torch.autocast('cpu', dtype=dtype):
        outputs = model(inputs)
        loss = sum(output.float().mean() for output in as_tuple(outputs))
    assert_close_to_float32(outputs, tuple(r.detach() for r in as_tuple(reference)), dtype)
    loss.backward()
    for name, param in model.named_parameters():
        assert param.dtype == torch.float32 and (param.grad is None or torch.isfinite(param.grad).all()), name


def recorded_attention_dtypes(monkeypatch, run):
    seen = []
    attention = F.scaled_dot_product_attention

    def recording(q, k, v, *args, **kwargs):
        seen.append(q.dtype)
        return attention(q, k, v, *args, **kwargs)

    monkeypatch.setattr(F, 'scaled_dot_product_attention', recording)
    run()
    return set(seen)


@pytest.mark.parametrize('precision, dtype, expected', [
    ('auto', torch.float16, torch.float32),
    ('auto', torch.bfloat16, torch.bfloat16),
    ('auto', torch.float32, torch.float32),
    ('float32', torch.bfloat16, torch.float32),
    ('input', torch.float16, torch.float16),
])
@pytest.mark.parametrize('how', ['cast', 'autocast'])
def test_attention_is_computed_in_the_dtype_attn_precision_names(monkeypatch, precision, dtype, expected, how):
    model = UniFormer3D(arch='xxs', attn_precision=precision).eval()
    clip = torch.randn(1, 3, 4, 64, 64)
    if how == 'cast':
        model.to(dtype)

        def run():
            model(clip.to(dtype))
    else:

        def run():
            with torch.autocast('cpu', dtype=dtype, enabled=dtype != torch.float32):
                model(clip)

    with torch.no_grad():
        assert recorded_attention_dtypes(monkeypatch, run) == {expected}


def test_fp16_attention_that_overflows_in_the_release_formulation_stays_finite():
    """Products past float16's 65504: the release's explicit ``softmax(q @ k^T * scale)`` in float16 turns them into
    inf and its output into NaN (the NaN losses of its tracker); ours computes the logits in float32, through
    ``scaled_dot_product_attention`` under 'input' too (PyTorch accumulates them in float32 on CPU)."""
    torch.manual_seed(0)
    tokens = torch.randn(2, 16, 64)
    attention = MultiheadSelfAttention(64, 2).eval()
    with torch.no_grad():
        attention.qkv.weight.mul_(200)  # q . k reaches about 3e5 before the scale
        reference = attention(tokens)
        q, k, _ = attention.qkv(tokens).reshape(2, 16, 3, 2, 32).permute(2, 0, 3, 1, 4)
        assert (q @ k.transpose(-2, -1)).abs().max() > 65504
        half = attention.half()
        release = naive_attention(tokens.half(), half.qkv, half.proj, 2)
        assert torch.isnan(release).any()
        for precision in ('auto', 'float32', 'input'):
            half.precision = precision
            out, first_row = half.attend(tokens.half(), with_first_row=True)
            assert torch.isfinite(out).all() and torch.isfinite(first_row).all(), precision
            torch.testing.assert_close(out.float(), reference, rtol=2e-2, atol=2e-2 * reference.abs().max().item())


def test_an_unknown_attention_precision_is_refused():
    with pytest.raises(ValueError, match=r"unknown attn_precision 'half'; expected one of \('auto', 'float32'"):
        UniFormer2D(arch='xxs', attn_precision='half')
