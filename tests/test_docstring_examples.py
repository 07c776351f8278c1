"""PyTorch's own docstring examples that Ember got wrong, replayed on both and compared.

Each case is the docstring's snippet (`torch` is bound to ember or to torch) and the names of
the results to compare: shape, dtype and values.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember


def run(snippet: str, module: object) -> dict:
    namespace = {"torch": module}
    exec(snippet, namespace)  # noqa: S102 (test snippets)
    return namespace


def values(x: object) -> object:
    if isinstance(x, (torch.Tensor, ember.Tensor)):
        return (tuple(x.shape), str(x.dtype).split(".")[-1], x.detach().numpy())
    if isinstance(x, tuple):
        return tuple(values(v) for v in x)
    return x


def assert_same(a: object, b: object) -> None:
    if isinstance(a, tuple) and len(a) == 3 and isinstance(a[2], np.ndarray):
        assert a[:2] == b[:2]
        np.testing.assert_allclose(a[2], b[2], rtol=1e-5, atol=1e-6, equal_nan=True)
    elif isinstance(a, tuple):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_same(x, y)
    else:
        assert a == b


CASES = {
    "masked_scatter_broadcasts_self": ("""
self = torch.tensor([0, 0, 0, 0, 0])
mask = torch.tensor([[0, 0, 0, 1, 1], [1, 1, 0, 1, 1]], dtype=torch.bool)
source = torch.tensor([[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]])
out = self.masked_scatter(mask, source)
""", ["out"]),
    "median_of_nan_rows": ("""
a = torch.tensor([[2, 3, 1], [float('nan'), 1, float('nan')]])
m0 = tuple(a.median(0))
m1 = tuple(torch.median(a, 1, keepdim=True))
m2 = tuple(torch.tensor([1., float('nan'), float('nan'), 2]).median(0))
""", ["m0", "m1", "m2"]),
    "special_xlogy_zero_x": ("""
x = torch.zeros(5,)
y = torch.tensor([-1, 0, 1, float('inf'), float('nan')])
out = torch.special.xlogy(x, y)
out1p = torch.special.xlog1py(x, torch.tensor([-2, -1, 0, float('inf'), float('nan')]))
""", ["out", "out1p"]),
    "special_erfcx_large_x": ("""
out = torch.special.erfcx(torch.tensor([0, -1., 2.4, 2.6, 10., 30., 1e10, -30.]))
out64 = torch.special.erfcx(torch.tensor([0.5, 2.5, 3., 5., 26., 1e3], dtype=torch.float64))
""", ["out", "out64"]),
    "logical_ops_out": ("""
a = torch.tensor([True, False, True])
b = torch.tensor([True, False, False])
o_and = torch.logical_and(a, b, out=torch.empty(3, dtype=torch.bool))
o_or = torch.logical_or(a, b, out=torch.empty(3, dtype=torch.bool))
o_xor = torch.logical_xor(a, b, out=torch.empty(3, dtype=torch.bool))
o_not = torch.logical_not(torch.tensor([0., 1., -10.], dtype=torch.double),
                          out=torch.empty(3, dtype=torch.int16))
o_eq = torch.eq(torch.tensor([1, 2]), 2, out=torch.empty(2))
o_bits = torch.bitwise_and(torch.tensor([12, 10]), 6, out=torch.empty(2, dtype=torch.int64))
""", ["o_and", "o_or", "o_xor", "o_not", "o_eq", "o_bits"]),
    "atleast_nd_of_sequences": ("""
x = torch.tensor(0.5)
y = torch.tensor([1., 2.])
one = torch.atleast_1d((x, y))
two = torch.atleast_2d([x, y])
three = torch.atleast_3d(x, y)
single = torch.atleast_3d(y)
""", ["one", "two", "three", "single"]),
    "nonzero_static": ("""
t = torch.tensor([[1, 0], [3, 2]])
padded = torch.nonzero_static(t, size=4)
cut = torch.nonzero_static(t, size=2)
filled = t.nonzero_static(size=3, fill_value=7)
none = torch.nonzero_static(torch.tensor([10]), size=0)
scalar = torch.nonzero_static(torch.tensor(10), size=2)
""", ["padded", "cut", "filled", "none", "scalar"]),
    "householder_product_fewer_reflectors": ("""
h = torch.linspace(-1, 1, 3 * 4 * 3, dtype=torch.float64).reshape(3, 4, 3)
tau = torch.linspace(0.2, 1.5, 6, dtype=torch.float64).reshape(3, 2)
Q = torch.linalg.householder_product(h, tau)
hc = torch.complex(h[:, :2, :2], h[:, 2:, :2].flip(-1))
Qc = torch.linalg.householder_product(hc, torch.complex(tau[:, :1], -tau[:, 1:]))
""", ["Q", "Qc"]),
    "lstsq_driver_outputs": ("""
A0 = torch.linspace(-2, 3, 15, dtype=torch.float64).reshape(5, 3).sin()  # of rank 2
A = A0 + torch.eye(5, 3, dtype=torch.float64)
B = torch.linspace(0, 1, 10, dtype=torch.float64).reshape(5, 2)
deficient = tuple(torch.linalg.lstsq(A0, B, driver='gelsd'))  # no residuals
d = tuple(torch.linalg.lstsq(A, B, driver='gelsd'))
y = tuple(torch.linalg.lstsq(A, B))
s = tuple(torch.linalg.lstsq(A, B, driver='gels'))
v = tuple(torch.linalg.lstsq(A.expand(2, 5, 3), B.T, driver='gelss'))
Ac = torch.complex(A, A.flip(0))
c = tuple(torch.linalg.lstsq(Ac, torch.complex(B, B), driver='gelsd'))
pc = torch.linalg.pinv(Ac)
""", ["d", "y", "s", "v", "c", "pc", "deficient"]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_docstring_example_matches_torch(name: str) -> None:
    snippet, names = CASES[name]
    got, expected = run(snippet, ember), run(snippet, torch)
    for n in names:
        assert_same(values(expected[n]), values(got[n]))


def test_random_integer_overloads() -> None:
    # torch's randint keywords (nn.CTCLoss's example) and random_'s random_(to) overload
    # (nn.CrossEntropyLoss's example: target = torch.empty(3, dtype=torch.long).random_(5))
    x = ember.randint(low=1, high=3, size=(400,), dtype=ember.int32)
    assert x.dtype == ember.int32 and x.shape == (400,) and set(x.tolist()) == {1, 2}
    assert set(ember.randint(3, high=5, size=(200,)).tolist()) == {3, 4}
    assert set(ember.randint(high=2, size=(200,)).tolist()) == {0, 1}
    assert set(ember.empty(200, dtype=ember.long).random_(3).tolist()) == {0, 1, 2}
    assert set(ember.empty(200).random_(to=2).tolist()) == {0.0, 1.0}
    assert set(ember.empty(200).random_(2, 4).tolist()) == {2.0, 3.0}
    assert set(ember.empty(200).random_(**{"from": 5, "to": 7}).tolist()) == {5.0, 6.0}
    assert ember.empty(200, dtype=ember.long).random_(2, None).min() >= 2
    with pytest.raises(TypeError):
        ember.randint(5)
    with pytest.raises(TypeError):
        ember.empty(3).random_(from_=1, to=3)


def test_median_gradient_reaches_first_nan() -> None:
    nan = float("nan")
    for m in (torch, ember):
        a = m.tensor([[2.0, 3, 1], [nan, 1, nan]], requires_grad=True)
        a.median(0).values.sum().backward()
        assert a.grad.tolist() == [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]


def test_masked_scatter_in_place_does_not_broadcast_self() -> None:
    mask = ember.tensor([[0, 1], [1, 1]], dtype=ember.bool)
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        ember.zeros(2).masked_scatter_(mask, ember.arange(4.0))
    x = ember.zeros(2, requires_grad=True)
    x.masked_scatter(mask, ember.arange(4.0)).sum().backward()
    assert x.grad.tolist() == [1.0, 0.0]  # as torch: only the unmasked (row 0, col 0) cell


def test_dim_order_ambiguity_check() -> None:
    for m in (torch, ember):
        with pytest.raises(RuntimeError, match="does not have unique dim order"):
            m.empty((1, 2, 3, 4)).dim_order(ambiguity_check=True)
        x = m.empty((1, 2, 3, 4))
        assert x.dim_order(ambiguity_check=[m.contiguous_format, m.channels_last]) == (0, 1, 2, 3)
        assert m.empty(2, 3).dim_order(ambiguity_check=True) == (0, 1)
        with pytest.raises(TypeError, match="must be a bool or a list"):
            m.empty(2).dim_order(ambiguity_check="ILLEGAL")


def test_post_accumulate_grad_hook_may_return_its_tensor() -> None:
    # Tensor.register_post_accumulate_grad_hook's example: an SGD step returning p.add_(...)
    v = ember.tensor([0.0, 0.0, 0.0], requires_grad=True)
    handle = v.register_post_accumulate_grad_hook(lambda p: p.add_(p.grad, alpha=-0.01))
    v.backward(ember.tensor([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(v.detach().numpy(), [-0.01, -0.02, -0.03], rtol=1e-6)
    handle.remove()
    w = ember.tensor([0.0], requires_grad=True)
    w.register_post_accumulate_grad_hook(lambda p: p.detach())  # another tensor: torch raises
    with pytest.raises(RuntimeError, match="should return None"):
        w.backward(ember.tensor([1.0]))


def test_from_dlpack_of_a_legacy_capsule_shares_writable_memory() -> None:
    t = torch.arange(4)
    t3 = ember.from_dlpack(torch.utils.dlpack.to_dlpack(t))
    t3[0] = -9
    assert t.tolist() == [-9, 1, 2, 3]
    e = ember.arange(3.0)
    back = ember.utils.dlpack.from_dlpack(ember.utils.dlpack.to_dlpack(e))
    back[1] = 7.0
    assert e.tolist() == [0.0, 7.0, 2.0]


def test_assert_close_compares_imaginary_parts() -> None:
    a = ember.tensor([1 + 1j, 2 + 0j])
    ember.testing.assert_close(a, a + 1e-7)  # within complex64's default tolerances
    with pytest.raises(AssertionError, match="not close"):
        ember.testing.assert_close(a, a + 1e-3j)
