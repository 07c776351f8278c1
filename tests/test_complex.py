"""Complex dtypes and ops, compared with torch: values, dtypes, printing and gradients.

Gradients follow torch's convention (for a real loss L of z = x + iy, z.grad = dL/dx + i dL/dy);
besides comparing with torch, a float64 finite-difference check confirms that convention
independently.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from complex_finite_difference import finite_difference
from conformance import Input, compare

import ember

COMPLEX = ["complex64", "complex128"]


def both(fn):
    return fn(ember), fn(torch)


# ------------------------------------------------------------------ dtypes and promotion
def test_dtype_objects():
    assert ember.cfloat is ember.complex64 and ember.cdouble is ember.complex128
    assert ember.complex64.is_complex and not ember.float32.is_complex
    assert not ember.complex64.is_floating_point and ember.complex64.is_signed
    assert ember.complex64.to_real() is ember.float32
    assert ember.complex128.to_real() is ember.float64
    assert ember.float32.to_real() is ember.float32
    assert ember.float64.to_complex() is ember.complex128
    assert ember.complex64.itemsize == 8
    assert repr(ember.complex128) == "ember.complex128"
    assert ember.finfo(ember.complex64).eps == torch.finfo(torch.complex64).eps
    with pytest.raises(RuntimeError, match="Complex"):
        ember.int64.to_complex()


_NAMES = ["bool", "uint8", "int32", "int64", "float16", "float32", "float64", "complex64",
          "complex128"]


@pytest.mark.parametrize("a", _NAMES)
@pytest.mark.parametrize("b", ["complex64", "complex128"])
def test_promote_types_with_complex(a, b):
    expected = torch.promote_types(getattr(torch, a), getattr(torch, b))
    if expected == torch.complex32:  # numpy has no complex32: Ember gives complex64
        expected = torch.complex64
    got = ember.promote_types(getattr(ember, a if a != "bool" else "bool"), getattr(ember, b))
    assert got.name == str(expected).split(".")[1]


@pytest.mark.parametrize("make", [
    lambda m: m.ones(2) + 1j,
    lambda m: m.ones(2, dtype=m.float64) + 1j,
    lambda m: m.ones(2, dtype=m.int32) * 2j,
    lambda m: m.ones(2, dtype=m.bool) + 1j,
    lambda m: m.ones(2, dtype=m.float64) + m.tensor(1j),
    lambda m: m.tensor(1.0, dtype=m.float64) + 1j,
    lambda m: m.tensor(1, dtype=m.int32) - 1j,
    lambda m: m.ones(2) + m.tensor([1j], dtype=m.complex128),
    lambda m: m.ones(2, dtype=m.complex64) * 2.5,
    lambda m: m.ones(2, dtype=m.complex64) * m.ones(2, dtype=m.float64),
    lambda m: m.ones(2, dtype=m.int64) / m.tensor([1j]),
    lambda m: 1j * m.arange(3),
    lambda m: m.ones(2) ** (1 + 1j),
])
def test_type_promotion_matches_torch(make):
    e, t = both(make)
    assert e.dtype.name == str(t.dtype).split(".")[1]
    np.testing.assert_allclose(e.numpy(), t.numpy())


# ------------------------------------------------------------------ creation and printing
def test_creation():
    z = np.array([1 + 2j, -3.5j], dtype=np.complex128)
    for make in [lambda m: m.tensor([1 + 2j, 3.0]), lambda m: m.tensor(z),
                 lambda m: m.tensor([[1, 2j]]), lambda m: m.tensor(1j, dtype=m.complex128),
                 lambda m: m.zeros(2, 3, dtype=m.complex64), lambda m: m.ones(2, dtype=m.cdouble),
                 lambda m: m.full((2,), 1 - 1j), lambda m: m.tensor([1, 2], dtype=complex),
                 lambda m: m.tensor([m.tensor(1j, dtype=m.complex128), 1.0])]:
        e, t = both(make)
        assert e.dtype.name == str(t.dtype).split(".")[1]
        np.testing.assert_array_equal(e.numpy(), t.numpy())
    shared = ember.from_numpy(z)
    z[0] = 7j
    assert shared[0].item() == 7j
    assert ember.tensor(z).is_complex() and ember.is_complex(ember.tensor(z))
    assert not ember.ones(2).is_complex()


def test_randn_is_torch_complex_normal():
    x = ember.randn(200_000, dtype=ember.complex64, generator=ember.Generator().manual_seed(0))
    assert x.dtype is ember.complex64
    parts = ember.view_as_real(x).numpy()
    np.testing.assert_allclose(parts.var(axis=0), [0.5, 0.5], rtol=0.02)  # E|z|^2 = 1
    np.testing.assert_allclose(parts.mean(axis=0), [0, 0], atol=0.01)
    u = ember.rand(1000, dtype=ember.complex128).numpy()
    assert u.dtype == np.complex128 and (u.real >= 0).all() and (u.imag < 1).all()
    assert ember.randn(2, 3, dtype=ember.cdouble).shape == (2, 3)


@pytest.mark.parametrize("values", [
    [1 + 2j, 3 - 4.5j],
    [[1.5 + 2j], [1e-5j]],
    [0j, -0.0 - 1j],
    [1 + 1j],
    [123456.0 + 1j, 1e-3 - 2j],
    [float("nan") + 1j, float("inf") - 2j],
])
@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_repr_matches_torch(values, dtype):
    e, t = both(lambda m: m.tensor(values, dtype=getattr(m, dtype)))
    assert repr(e) == repr(t).replace("torch.", "ember.")


def test_repr_scalar_and_grad():
    e, t = both(lambda m: m.tensor(1 + 1j, requires_grad=True))
    assert repr(e) == repr(t)
    e, t = both(lambda m: m.tensor([1 + 1j, 2j], requires_grad=True) * 2)
    assert repr(e).split("grad_fn")[0] == repr(t).split("grad_fn")[0]


# ------------------------------------------------------------------ ops compared with torch
UNARY = ["exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "sinh", "cosh", "sigmoid",
         "reciprocal", "rsqrt", "asin", "acos", "atan", "asinh", "acosh", "atanh", "log1p",
         "expm1", "log2", "log10", "neg", "square", "abs", "angle", "sgn", "conj",
         "conj_physical", "resolve_conj"]


@pytest.mark.parametrize("dtype", COMPLEX)
@pytest.mark.parametrize("name", UNARY)
def test_unary(name, dtype):
    compare(lambda m, x: getattr(m, name)(x), [(3, 4)], dtype=dtype)


@pytest.mark.parametrize("dtype", COMPLEX)
@pytest.mark.parametrize("fn", [
    lambda m, x, y: x + y, lambda m, x, y: x - y, lambda m, x, y: x * y,
    lambda m, x, y: x / y, lambda m, x, y: x ** y, lambda m, x, y: m.pow(x, 2.5),
    lambda m, x, y: 2.0 / x, lambda m, x, y: x * (1 - 2j), lambda m, x, y: (1 + 1j) ** y,
    lambda m, x, y: m.add(x, y, alpha=2), lambda m, x, y: m.lerp(x, y, 0.3),
    lambda m, x, y: m.addcmul(x, x, y, value=0.5),
])
def test_binary(fn, dtype):
    compare(fn, [(3, 4), (4,)], dtype=dtype)


@pytest.mark.parametrize("fn", [
    lambda m, r, z: r * z, lambda m, r, z: z / r, lambda m, r, z: r / z,
    lambda m, r, z: r + z, lambda m, r, z: r * 1j + z, lambda m, r, z: r ** z,
    lambda m, r, z: (r.to(z.dtype) * z).exp(),
])
def test_real_meets_complex(fn):
    """A real input of a complex result gets a real gradient: the real part of torch's."""
    compare(fn, [Input((3, 4), dtype="float64"), (3, 4)], dtype="complex128")


@pytest.mark.parametrize("dtype", COMPLEX)
@pytest.mark.parametrize("fn", [
    lambda m, x: x.real * 2, lambda m, x: x.imag * 3, lambda m, x: m.real(x) + m.imag(x),
    lambda m, x: m.view_as_real(x), lambda m, x: m.view_as_real(x * x).sum(-1),
    lambda m, x: m.view_as_complex(m.view_as_real(x) * 2),
    lambda m, x: x.abs() ** 2, lambda m, x: x.H, lambda m, x: x.mH @ x, lambda m, x: x.mT,
    lambda m, x: (x @ x.T).exp(), lambda m, x: m.matmul(x, x.T.conj()),
    lambda m, x: x.sum(), lambda m, x: x.sum(0), lambda m, x: x.mean(1), lambda m, x: x.prod(1),
    lambda m, x: x.cumsum(0), lambda m, x: x.var(0), lambda m, x: x.std(),
    lambda m, x: m.linalg.norm(x), lambda m, x: x.norm(dim=1),
    lambda m, x: m.einsum("ij,kj->ik", x, x), lambda m, x: x.reshape(-1)[2:7].flip(0),
    lambda m, x: m.cat([x, x * 1j]), lambda m, x: m.stack([x, x.conj()]).sum(0),
    lambda m, x: x[1:, ::2] * x[0, 0], lambda m, x: m.where(x.real > 0, x, x * x),
    lambda m, x: x.unsqueeze(0).expand(2, 3, 4), lambda m, x: m.exp(x) * m.angle(x),
])
def test_complex_functions(fn, dtype):
    compare(fn, [(3, 4)], dtype=dtype)


@pytest.mark.parametrize("fn", [
    lambda m, a, b: m.complex(a, b), lambda m, a, b: m.complex(a, b[0]) ** 2,
    lambda m, a, b: m.polar(a.abs(), b), lambda m, a, b: m.polar(a, b).angle(),
    lambda m, a, b: m.view_as_complex(m.stack([a, b], -1)),
    lambda m, a, b: m.view_as_complex(m.stack([a, b], -1)).abs(),
])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_real_to_complex(fn, dtype):
    compare(fn, [(3, 4), (3, 4)], dtype=dtype)


# ------------------------------------------------------------------ gradient convention
@pytest.mark.parametrize("fn", [
    lambda x: (x * x).exp(), lambda x: x.abs(), lambda x: x.angle(), lambda x: x.conj() * x,
    lambda x: x.sgn(), lambda x: x / (x.sum() + 1), lambda x: x.real * x.imag,
    lambda x: ember.view_as_real(x.sqrt()), lambda x: x @ x.mH,
])
def test_gradient_convention_by_finite_differences(fn):
    rng = np.random.default_rng(3)
    z = rng.standard_normal((2, 3)) + 1j * rng.standard_normal((2, 3))
    out_shape = fn(ember.tensor(z)).shape
    w = rng.standard_normal((*out_shape, 2))

    def loss(x):
        out = fn(x)
        parts = ember.view_as_real(out) if out.is_complex() else ember.stack([out, out], -1)
        return (parts * ember.tensor(w)).sum()

    x = ember.tensor(z, requires_grad=True)
    loss(x).backward()
    expected = finite_difference(lambda a: loss(ember.tensor(a)).item(), z)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-6, atol=1e-7)


def test_double_backward_matches_torch():
    z = np.array([0.5 + 1j, -1.5 + 0.2j, 2 - 1j])
    grads = []
    for m in (ember, torch):
        x = m.tensor(z, requires_grad=True)
        y = (m.exp(x) * x).abs().sum() + (x * x).real.sum() + m.angle(x).sum()
        (g,) = m.autograd.grad(y, x, create_graph=True)
        (m.view_as_real(g) * m.tensor([1.0, -2.0], dtype=m.float64)).sum().backward()
        grads.append(x.grad.detach().numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10)


def test_real_leaf_keeps_real_gradient():
    r = ember.tensor([1.0, 2.0], requires_grad=True)
    (ember.view_as_real(r * (1 + 2j)).sum()).backward()
    assert r.grad.dtype is ember.float32
    np.testing.assert_allclose(r.grad.numpy(), [3.0, 3.0])


# ------------------------------------------------------------------ views and predicates
def test_real_imag_views_share_memory():
    for m in (ember, torch):
        z = m.tensor([1 + 2j, 3 + 4j])
        z.real[0] = 10
        z.imag.mul_(-1)
        r = m.view_as_real(z)
        r[1, 0] = 0
        assert z.tolist() == [10 - 2j, 0 - 4j]
        c = m.view_as_complex(m.tensor([[1.0, 2.0], [3.0, 4.0]]))
        assert c.tolist() == [1 + 2j, 3 + 4j]
    z = ember.tensor([1 + 2j])
    z.real = ember.tensor([5.0])
    assert z.item() == 5 + 2j
    assert ember.tensor([1.0]).real.tolist() == [1.0]


def test_conj_and_predicates():
    z = ember.tensor([1 + 2j, 3 - 1j])
    assert z.conj().tolist() == [1 - 2j, 3 + 1j]
    assert not z.conj().is_conj() and not ember.is_conj(z)  # Ember's conj is never lazy
    assert z.resolve_conj() is z
    x = ember.ones(2)
    assert x.conj() is x and x.real is x
    assert ember.isreal(ember.tensor([1 + 0j, 1j])).tolist() == [True, False]
    assert ember.tensor([1 + 1j]).abs().dtype is ember.float32
    assert x.cfloat().dtype is ember.complex64 and x.cdouble().dtype is ember.complex128


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("op", [
    lambda z: z < z, lambda z: z >= 0, lambda z: z.max(), lambda z: z.min(0), lambda z: z.amax(),
    lambda z: z.argmax(), lambda z: z.sort(), lambda z: z.topk(1), lambda z: z.clamp(0),
    lambda z: ember.relu(z), lambda z: z.floor(), lambda z: z.round(), lambda z: z.sign(),
    lambda z: ember.maximum(z, z), lambda z: z % 2, lambda z: z // 2, lambda z: ember.atan2(z, z),
])
def test_ordering_ops_raise(op):
    z = ember.tensor([1 + 2j, 3 - 4j])
    with pytest.raises(NotImplementedError, match="complex|Complex"):
        op(z)


def test_error_messages():
    with pytest.raises(RuntimeError, match="imag is not implemented"):
        _ = ember.ones(2).imag
    with pytest.raises(RuntimeError, match="last dimension of size 2"):
        ember.view_as_complex(ember.ones(3))
    with pytest.raises(RuntimeError, match="stride 1"):
        ember.view_as_complex(ember.ones(2, 4)[:, ::2].T.contiguous().T)
    with pytest.raises(RuntimeError, match="float and double"):
        ember.view_as_complex(ember.ones(3, 2, dtype=ember.int64))
    with pytest.raises(RuntimeError, match="complex tensors"):
        ember.view_as_real(ember.ones(2))
    with pytest.raises(RuntimeError, match="Double"):
        ember.complex(ember.ones(2), ember.ones(2, dtype=ember.float64))
    with pytest.raises(RuntimeError, match="Half, Float or Double"):
        ember.complex(ember.ones(2, dtype=ember.int64), ember.ones(2, dtype=ember.int64))
    z = ember.tensor(1 + 1j, requires_grad=True)
    with pytest.raises(RuntimeError, match="real scalar outputs"):
        (z * 2).backward()
