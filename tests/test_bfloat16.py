"""ember.bfloat16 against torch.bfloat16: dtype rules, conversions, ops, gradients, training.

bfloat16 needs the optional ml_dtypes package; its absence is simulated in a subprocess.
Tolerances are bfloat16's: 8 bits of mantissa, so about 1e-2 relative.
"""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as EF

ml_dtypes = pytest.importorskip("ml_dtypes")

RTOL = ATOL = 2e-2


def _values(*shape: int, positive: bool = False, seed: int = 0) -> np.ndarray:
    a = np.random.default_rng(seed + len(shape)).standard_normal(shape).astype(np.float32)
    return np.abs(a) + 0.1 if positive else a


def _close(e: ember.Tensor, t: torch.Tensor, rtol: float = RTOL, atol: float = ATOL) -> None:
    assert e.dtype == ember.bfloat16 and t.dtype == torch.bfloat16
    np.testing.assert_allclose(e.detach().float().numpy(), t.detach().float().numpy(),
                               rtol=rtol, atol=atol)


# ------------------------------------------------------------------------------ the dtype
def test_dtype_object_and_finfo():
    assert repr(ember.bfloat16) == "ember.bfloat16" and ember.bfloat16.is_floating_point
    assert ember.bfloat16.itemsize == 2 and ember.bfloat16.is_signed
    mine, theirs = ember.finfo(ember.bfloat16), torch.finfo(torch.bfloat16)
    for name in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
        assert getattr(mine, name) == pytest.approx(getattr(theirs, name), rel=1e-6), name


@pytest.mark.parametrize("other", ["float16", "float32", "float64", "int64", "int8", "uint8",
                                   "bool", "complex64", "complex128"])
def test_promotion_matches_torch(other):
    want = torch.promote_types(torch.bfloat16, getattr(torch, other))
    got = ember.promote_types(ember.bfloat16, getattr(ember, other))
    assert got.name == str(want).removeprefix("torch.")
    got = ember.promote_types(getattr(ember, other), ember.bfloat16)
    assert got.name == str(want).removeprefix("torch.")


def test_scalar_and_tensor_promotion_matches_torch():
    for lib in (ember, torch):
        b = lib.ones(2, dtype=lib.bfloat16)
        assert (b * 2.5).dtype == lib.bfloat16 and (b + 1).dtype == lib.bfloat16
        assert (b + lib.ones(2, dtype=lib.int64)).dtype == lib.bfloat16
        assert (b + lib.ones(2, dtype=lib.float16)).dtype == lib.float32
        assert (b + lib.ones(2)).dtype == lib.float32
        assert (b + lib.tensor(1.0)).dtype == lib.bfloat16  # a zero-dim tensor does not win
        assert (lib.ones(2, dtype=lib.int32) * lib.tensor(1.0, dtype=lib.bfloat16)).dtype \
            == lib.bfloat16


# ------------------------------------------------------------------------- conversions
def test_creation_and_conversions_match_torch():
    data = [[1.5, 2.3, -0.1], [1e-3, 300.7, -7.25]]
    e = ember.tensor(data, dtype=ember.bfloat16)
    t = torch.tensor(data, dtype=torch.bfloat16)
    assert e.tolist() == t.tolist() and e[1, 1].item() == t[1, 1].item()
    assert e.is_floating_point() and str(e) == str(t).replace("torch", "ember")
    assert ember.tensor(data).bfloat16().tolist() == torch.tensor(data).bfloat16().tolist()
    assert ember.tensor(data).to(ember.bfloat16).float().tolist() == t.float().tolist()
    assert e.to(ember.float16).tolist() == t.to(torch.float16).tolist()
    assert e.long().tolist() == t.long().tolist()
    for fn in ("zeros", "ones", "randn", "rand", "empty"):
        assert getattr(ember, fn)(2, 3, dtype=ember.bfloat16).dtype == ember.bfloat16
    assert ember.full((2,), 0.1, dtype=ember.bfloat16)[0].item() == \
        torch.full((2,), 0.1, dtype=torch.bfloat16)[0].item()
    assert ember.zeros(2, 3, dtype=ember.bfloat16).element_size() == 2


def test_numpy_refuses_like_torch_and_from_numpy_accepts_ml_dtypes():
    with pytest.raises(TypeError, match="Got unsupported ScalarType BFloat16") as theirs:
        torch.ones(2, dtype=torch.bfloat16).numpy()
    with pytest.raises(TypeError) as mine:
        ember.ones(2, dtype=ember.bfloat16).numpy()
    assert str(mine.value) == str(theirs.value)
    array = np.array([1.0, 2.5, -3.0], dtype=ml_dtypes.bfloat16)
    shared = ember.from_numpy(array)
    array[0] = 7.0  # memory is shared, as with torch.from_numpy
    assert shared.dtype == ember.bfloat16 and shared.tolist() == [7.0, 2.5, -3.0]


def test_save_load_round_trip_is_safetensors_bf16(tmp_path):
    model = ember.nn.Linear(3, 2).bfloat16()
    buffer = io.BytesIO()
    ember.save(model.state_dict(), buffer)
    buffer.seek(0)
    loaded = ember.load(buffer)
    assert loaded["weight"].dtype == ember.bfloat16
    assert loaded["weight"].tolist() == model.weight.tolist()
    safetensors_torch = pytest.importorskip("safetensors.torch")
    path = tmp_path / "m.safetensors"
    path.write_bytes(buffer.getvalue())
    theirs = safetensors_torch.load_file(str(path))
    assert next(iter(theirs.values())).dtype == torch.bfloat16


def test_dlpack_export_refuses_clearly():
    with pytest.raises(BufferError, match="DLPack"):  # numpy's DLPack has no bfloat16
        ember.ones(2, dtype=ember.bfloat16).__dlpack__()


# ------------------------------------------------------------------------------- ops
def _run(e_fn, t_fn, shapes, positive=False, rtol=RTOL, atol=ATOL):
    values = [_values(*s, positive=positive, seed=i) for i, s in enumerate(shapes)]
    es = [ember.tensor(v).bfloat16().requires_grad_() for v in values]
    ts = [torch.tensor(v).bfloat16().requires_grad_() for v in values]
    out_e, out_t = e_fn(*es), t_fn(*ts)
    _close(out_e, out_t, rtol, atol)
    grad = _values(*out_t.shape, seed=9)
    out_e.backward(ember.tensor(grad).bfloat16())
    out_t.backward(torch.tensor(grad).bfloat16())
    for e, t in zip(es, ts):
        _close(e.grad, t.grad, 3e-2, 3e-2)


_TARGET = [1, 2, 3]
OPS = {
    "add_broadcast": (lambda a, b: a + b, lambda a, b: a + b, [(3, 4), (4,)]),
    "mul_python_float": (lambda a: a * 0.3 - 1, lambda a: a * 0.3 - 1, [(3, 4)]),
    "div": (lambda a, b: a / b, lambda a, b: a / b, [(3, 4), (3, 4)], True),
    "exp": (lambda a: a.exp(), lambda a: a.exp(), [(3, 4)]),
    "sqrt": (lambda a: a.sqrt(), lambda a: a.sqrt(), [(3, 4)], True),
    "tanh": (lambda a: a.tanh(), lambda a: a.tanh(), [(3, 4)]),
    "gelu": (EF.gelu, TF.gelu, [(3, 4)]),
    "silu": (EF.silu, TF.silu, [(3, 4)]),
    "clamp": (lambda a: a.clamp(-0.5, 0.5), lambda a: a.clamp(-0.5, 0.5), [(3, 4)]),
    "where": (lambda a: ember.where(a > 0, a, 0.5), lambda a: torch.where(a > 0, a, 0.5),
              [(3, 4)]),
    "sum": (lambda a: a.sum(), lambda a: a.sum(), [(30, 40)]),
    "mean_dim": (lambda a: a.mean(0), lambda a: a.mean(0), [(30, 40)]),
    "var": (lambda a: a.var(1), lambda a: a.var(1), [(3, 40)]),
    "amax": (lambda a: a.amax(1), lambda a: a.amax(1), [(3, 40)]),
    "norm": (lambda a: a.norm(), lambda a: a.norm(), [(3, 40)]),
    "logsumexp": (lambda a: a.logsumexp(1), lambda a: a.logsumexp(1), [(3, 40)]),
    "cumsum": (lambda a: a.cumsum(1), lambda a: a.cumsum(1), [(3, 6)]),
    "matmul": (lambda a, b: a @ b, lambda a, b: a @ b, [(5, 16), (16, 7)]),
    "bmm": (lambda a, b: a @ b, lambda a, b: a @ b, [(2, 5, 16), (2, 16, 7)]),
    "einsum": (lambda a, b: ember.einsum("ij,jk->ik", a, b),
               lambda a, b: torch.einsum("ij,jk->ik", a, b), [(4, 6), (6, 3)]),
    "linear": (EF.linear, TF.linear, [(5, 16), (7, 16), (7,)]),
    "conv2d": (lambda a, w: EF.conv2d(a, w, padding=1), lambda a, w: TF.conv2d(a, w, padding=1),
               [(2, 3, 8, 8), (4, 3, 3, 3)]),
    "attention": (lambda q, k, v: EF.scaled_dot_product_attention(q, k, v, is_causal=True),
                  lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, is_causal=True),
                  [(2, 2, 5, 8)] * 3),
    "softmax": (lambda a: EF.softmax(a, -1), lambda a: TF.softmax(a, -1), [(3, 10)]),
    "log_softmax": (lambda a: EF.log_softmax(a, -1), lambda a: TF.log_softmax(a, -1), [(3, 10)]),
    "layer_norm": (lambda a, w, b: EF.layer_norm(a, (10,), w, b),
                   lambda a, w, b: TF.layer_norm(a, (10,), w, b), [(3, 10), (10,), (10,)]),
    "cross_entropy": (lambda a: EF.cross_entropy(a, ember.tensor(_TARGET)),
                      lambda a: TF.cross_entropy(a, torch.tensor(_TARGET)), [(3, 10)]),
    "max_pool2d": (lambda a: EF.max_pool2d(a, 2), lambda a: TF.max_pool2d(a, 2), [(2, 3, 8, 8)]),
    "embedding": (lambda w: EF.embedding(ember.tensor([1, 2, 1]), w),
                  lambda w: TF.embedding(torch.tensor([1, 2, 1]), w), [(5, 4)]),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_op_forward_and_backward_match_torch(name):
    e_fn, t_fn, shapes, *positive = OPS[name]
    _run(e_fn, t_fn, shapes, positive=bool(positive))


def test_large_sum_accumulates_in_float32_like_torch():
    e = ember.ones(4096, dtype=ember.bfloat16)
    t = torch.ones(4096, dtype=torch.bfloat16)
    assert e.sum().item() == t.sum().item() == 4096.0
    assert e.mean().item() == t.mean().item() == 1.0


# ------------------------------------------------------------------- modules, training
def _mlp(lib):
    lib.manual_seed(0)
    return lib.nn.Sequential(lib.nn.Linear(8, 16), lib.nn.GELU(), lib.nn.LayerNorm(16),
                             lib.nn.Linear(16, 4))


def _copy_weights(dst, src):
    with torch.no_grad():
        for p_t, p_e in zip(dst.parameters(), src.parameters()):
            p_t.copy_(torch.tensor(p_e.detach().float().tolist()))


def test_mlp_forward_backward_and_adamw_match_torch():
    m_e = _mlp(ember).bfloat16()
    m_t = _mlp(torch)
    _copy_weights(m_t, m_e)
    m_t = m_t.bfloat16()
    opt_e = ember.optim.AdamW(m_e.parameters(), lr=1e-2)
    opt_t = torch.optim.AdamW(m_t.parameters(), lr=1e-2)
    x, y = _values(6, 8, seed=3), [0, 1, 2, 3, 0, 1]
    for _ in range(3):
        loss_e = EF.cross_entropy(m_e(ember.tensor(x).bfloat16()), ember.tensor(y))
        loss_t = TF.cross_entropy(m_t(torch.tensor(x).bfloat16()), torch.tensor(y))
        _close(loss_e, loss_t)
        for opt, loss in ((opt_e, loss_e), (opt_t, loss_t)):
            opt.zero_grad()
            loss.backward()
        for p_e, p_t in zip(m_e.parameters(), m_t.parameters()):
            _close(p_e.grad, p_t.grad, 5e-2, 5e-2)
        opt_e.step()
        opt_t.step()
        for p_e, p_t in zip(m_e.parameters(), m_t.parameters()):
            assert p_e.dtype == ember.bfloat16
            _close(p_e, p_t, 3e-2, 3e-2)


def test_autocast_cpu_defaults_to_bfloat16_like_torch():
    for lib in (ember, torch):
        layer = lib.nn.Linear(4, 3)
        with lib.autocast("cpu"):
            assert lib.get_autocast_dtype("cpu") == lib.bfloat16
            out = layer(lib.randn(2, 4))
            assert out.dtype == lib.bfloat16 and (lib.randn(2, 2) @ lib.randn(2, 2)).dtype \
                == lib.bfloat16
            assert (lib.randn(2) + lib.randn(2)).dtype == lib.float32  # not a listed op
        out.float().sum().backward()
        assert layer.weight.grad.dtype == lib.float32  # the cast is differentiable
    with ember.autocast("cpu", dtype=ember.bfloat16):
        x = ember.randn(1, 2, 5, 5)
        assert EF.conv2d(x, ember.randn(3, 2, 3, 3)).dtype == ember.bfloat16
        q = ember.randn(1, 2, 4, 8)
        assert EF.scaled_dot_product_attention(q, q, q).dtype == ember.bfloat16


def test_is_bf16_supported_is_truthful():
    if not ember.cuda.is_available():
        assert ember.cuda.is_bf16_supported() is False
    elif not ember.cuda.is_bf16_supported():
        with pytest.raises(RuntimeError, match="bfloat16"):
            ember.ones(2, dtype=ember.bfloat16).cuda()


# --------------------------------------------------------------------- without ml_dtypes
def test_without_ml_dtypes_bfloat16_exists_and_says_what_to_install():
    script = """
import sys
sys.modules["ml_dtypes"] = None  # an import of it now raises ImportError
import ember
assert repr(ember.bfloat16) == "ember.bfloat16" and ember.bfloat16.is_floating_point
uses = [lambda: ember.zeros(2, dtype=ember.bfloat16), lambda: ember.ones(2).to(ember.bfloat16),
        lambda: ember.ones(2).bfloat16(), lambda: ember.nn.Linear(2, 2).bfloat16(),
        lambda: ember.tensor([1.0], dtype=ember.bfloat16), lambda: ember.autocast("cpu")]
for use in uses:
    try:
        use()
    except RuntimeError as exc:
        assert "pip install ml_dtypes" in str(exc), exc
    else:
        raise AssertionError("bfloat16 was usable without ml_dtypes")
assert ember.cuda.is_bf16_supported() is False
with ember.autocast("cpu", dtype=ember.float16):
    assert (ember.randn(2, 2) @ ember.randn(2, 2)).dtype == ember.float16
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
