"""Tensor methods and torch.* functions filled in from the gap list (as_strided, resize_, set_,
index_reduce, LU family, igamma, frombuffer, norms, top-level in-place forms), against torch."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def E(t, requires_grad=False):  # noqa: N802
    return ember.tensor(t.detach().numpy(), requires_grad=requires_grad)


def close(e, t, tol=1e-6):
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=tol, atol=tol)


# ----------------------------------------------------------------------------- as_strided
@pytest.mark.parametrize("size,stride,offset", [
    ((3, 3), (1, 1), 0), ((2, 2), (3, 1), 1), ((4,), (2,), None), ((2, 3), (0, 1), 2),
    ((2, 2, 2), (4, 2, 1), 0),
])
def test_as_strided_values_and_grad(size, stride, offset):
    base = torch.randn(12, dtype=torch.float64, requires_grad=True)
    x = ember.tensor(base.detach().numpy(), requires_grad=True)
    t = base.as_strided(size, stride, offset) if offset is not None else base.as_strided(size, stride)
    e = x.as_strided(size, stride, offset) if offset is not None else x.as_strided(size, stride)
    close(e, t)
    g = torch.randn(size, dtype=torch.float64)
    t.backward(g)
    e.backward(E(g))
    close(x.grad, base.grad)
    assert e.stride() == tuple(stride)


def test_as_strided_shares_memory_and_offset_default():
    x = ember.arange(10.0)
    y = x[2:]
    v = y.as_strided((2,), (3,))  # starts at y's storage offset, as torch
    assert v.tolist() == [2.0, 5.0]
    v[0] = 100.0
    assert x[2].item() == 100.0
    assert ember.as_strided(ember.arange(10.0), (2, 2), (1, 2), 1).tolist() == \
        torch.as_strided(torch.arange(10.0), (2, 2), (1, 2), 1).tolist()
    chained = ember.arange(10.0).as_strided((4,), (1,)).as_strided((2,), (4,), 1)
    assert chained.tolist() == [1.0, 5.0]  # offsets are into the storage, not the view


def test_as_strided_of_transposed_input_grad():
    a = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    b = ember.tensor(a.detach().numpy(), requires_grad=True)
    t = (a * 2).t().as_strided((2, 3), (1, 4))
    e = (b * 2).t().as_strided((2, 3), (1, 4))
    close(e, t)
    g = torch.randn(2, 3, dtype=torch.float64)
    t.backward(g)
    e.backward(E(g))
    close(b.grad, a.grad)


def test_as_strided_gradcheck():
    x = ember.randn(6, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: t.as_strided((2, 2), (1, 2), 1) ** 2, (x,))


@pytest.mark.parametrize("size,stride", [((3, 3), (1, 1)), ((3,), (-1,)), ((3,), (1, 1))])
def test_as_strided_errors(size, stride):
    with pytest.raises(RuntimeError):
        torch.arange(4.0).as_strided(size, stride)
    with pytest.raises(RuntimeError):
        ember.arange(4.0).as_strided(size, stride)


def test_empty_strided():
    t = torch.empty_strided((2, 3), (1, 2))
    e = ember.empty_strided((2, 3), (1, 2))
    assert e.shape == t.shape and e.stride() == t.stride()
    e2 = ember.zeros(1, dtype=ember.float64).new_empty_strided((2, 2), (2, 1))
    assert e2.dtype == ember.float64 and e2.stride() == (2, 1)


# ----------------------------------------------------------------------------- resize_, set_
def test_resize_shrink_and_grow():
    t = torch.arange(6.0)
    e = ember.arange(6.0)
    t.resize_(2, 2)
    e.resize_(2, 2)
    close(e, t)
    assert e.stride() == t.stride()
    e.resize_(3, 3)
    assert e.shape == (3, 3)
    assert e.reshape(-1)[:6].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    e.resize_as_(ember.zeros(4))
    assert e.shape == (4,)
    with pytest.raises(RuntimeError):
        ember.zeros(3, requires_grad=True).resize_(2)


def test_set_shares_memory():
    a = ember.zeros(3)
    b = ember.arange(4.0)
    a.set_(b)
    assert a.shape == (4,) and a.is_set_to(b)
    b[0] = 7.0
    assert a[0].item() == 7.0
    a.set_()
    assert a.shape == (0,)


# ----------------------------------------------------------------------------- index_reduce
@pytest.mark.parametrize("reduce", ["prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_index_reduce(reduce, include_self):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(5, 3, dtype=torch.float64, generator=g, requires_grad=True)
    src = torch.randn(4, 3, dtype=torch.float64, generator=g, requires_grad=True)
    idx = torch.tensor([0, 2, 0, 4])
    t = x.index_reduce(0, idx, src, reduce, include_self=include_self)
    xe, se = E(x, True), E(src, True)
    e = xe.index_reduce(0, ember.tensor(idx.numpy()), se, reduce, include_self=include_self)
    close(e, t)
    gr = torch.randn(5, 3, dtype=torch.float64, generator=g)
    t.backward(gr)
    e.backward(E(gr))
    close(xe.grad, x.grad)
    close(se.grad, src.grad)


def test_index_reduce_inplace_dim1_and_errors():
    x = torch.ones(2, 4)
    e = ember.ones(2, 4)
    src = torch.arange(6.0).reshape(2, 3)
    idx = torch.tensor([3, 1, 3])
    x.index_reduce_(1, idx, src, "prod")
    e.index_reduce_(1, ember.tensor(idx.numpy()), E(src), "prod")
    close(e, x)
    with pytest.raises(RuntimeError):
        e.index_reduce_(1, ember.tensor(idx.numpy()), E(src), "sum")


# ----------------------------------------------------------------------------- LU family
@pytest.mark.parametrize("shape", [(4, 4), (2, 3, 3), (5, 3), (3, 5)])
def test_lu_matches_torch(shape):
    from ember.ops import lu as L

    A = torch.randn(shape, dtype=torch.float64)
    P, Lt, U = torch.linalg.lu(A)
    Pe, Le, Ue = L.linalg_lu_fn(E(A))
    close(Pe, P)
    close(Le, Lt)
    close(Ue, U)
    LU, piv = torch.linalg.lu_factor(A)
    LUe, pive = L.lu_factor(E(A))
    close(LUe, LU)
    assert pive.dtype == ember.int32 and pive.tolist() == piv.tolist()
    up = ember.lu_unpack(LUe, pive)
    close(up.P, P)
    close(up.L, Lt)
    close(up.U, U)


def test_lu_grad():
    from ember.ops import lu as L

    A = torch.randn(4, 4, dtype=torch.float64, requires_grad=True)
    Ae = E(A, True)
    P, Lt, U = torch.linalg.lu(A)
    Pe, Le, Ue = L.linalg_lu_fn(Ae)
    gl, gu = torch.randn(4, 4, dtype=torch.float64), torch.randn(4, 4, dtype=torch.float64)
    ((Lt * gl).sum() + (U * gu).sum()).backward()
    ((Le * E(gl)).sum() + (Ue * E(gu)).sum()).backward()
    close(Ae.grad, A.grad)


@pytest.mark.parametrize("left,adjoint", [(True, False), (True, True), (False, False),
                                          (False, True)])
def test_lu_solve(left, adjoint):
    from ember.ops import lu as L

    A = torch.randn(3, 3, dtype=torch.float64, requires_grad=True)
    B = torch.randn(3, 2, dtype=torch.float64) if left else torch.randn(2, 3, dtype=torch.float64)
    B.requires_grad_(True)
    LU, piv = torch.linalg.lu_factor(A)
    X = torch.linalg.lu_solve(LU, piv, B, left=left, adjoint=adjoint)
    Ae, Be = E(A, True), E(B, True)
    LUe, pive = L.lu_factor(Ae)
    Xe = L.linalg_lu_solve(LUe, pive, Be, left=left, adjoint=adjoint)
    close(Xe, X)
    g = torch.randn(X.shape, dtype=torch.float64)
    X.backward(g)
    Xe.backward(E(g))
    close(Ae.grad, A.grad)
    close(Be.grad, B.grad)


def test_torch_lu_and_lu_solve_old_api():
    A = torch.randn(2, 3, 3, dtype=torch.float64)
    b = torch.randn(2, 3, 1, dtype=torch.float64)
    LU, piv, info = torch.lu(A, get_infos=True)
    LUe, pive, infoe = ember.lu(E(A), get_infos=True)
    close(LUe, LU)
    assert infoe.tolist() == info.tolist()
    close(ember.lu_solve(E(b), LUe, pive), torch.lu_solve(b, LU, piv))
    close(E(b).lu_solve(*E(A).lu()), b.lu_solve(*A.lu()))


def test_lu_factor_singular_errors():
    from ember.ops import lu as L

    with pytest.raises(RuntimeError):
        L.lu_factor(ember.zeros(2, 2))
    with pytest.raises(RuntimeError):
        L.lu_factor(ember.zeros(2, 2, dtype=ember.int64))
    out = L.lu_factor_ex(ember.zeros(2, 2))
    assert out.info.tolist() == torch.linalg.lu_factor_ex(torch.zeros(2, 2)).info.tolist()


# ----------------------------------------------------------------------------- igamma
def test_igamma_values_and_grad():
    a = torch.rand(5, dtype=torch.float64) * 3 + 0.2
    x = (torch.rand(5, dtype=torch.float64) * 4).requires_grad_(True)
    xe = E(x, True)
    for tf, ef in ((torch.igamma, ember.igamma), (torch.igammac, ember.igammac)):
        x.grad = None
        xe.grad = None
        t = tf(a, x)
        e = ef(E(a), xe)
        close(e, t, 1e-9)
        g = torch.randn(5, dtype=torch.float64)
        t.backward(g)
        e.backward(E(g))
        close(xe.grad, x.grad, 1e-9)
    assert ember.igamma(E(a), xe).dtype == ember.float64
    with pytest.raises(NotImplementedError):
        ember.igamma(E(a, True), xe)
    with pytest.raises(NotImplementedError):
        ember.igamma(ember.tensor([1, 2]), ember.tensor([1, 2]))
    close(E(a).igammac(E(x)), a.igammac(x))


# ----------------------------------------------------------------------------- misc
def test_frombuffer():
    buf = bytearray(np.arange(6, dtype=np.float32).tobytes())
    t = torch.frombuffer(buf, dtype=torch.float32, count=3, offset=4)
    e = ember.frombuffer(buf, dtype=ember.float32, count=3, offset=4)
    close(e, t)
    e[0] = 50.0
    assert np.frombuffer(buf, dtype=np.float32)[1] == 50.0
    with pytest.raises(ValueError):
        ember.frombuffer(bytearray(5), dtype=ember.float32)


def test_norm_functions():
    A = torch.randn(3, 4, dtype=torch.float64)
    close(ember.nuclear_norm(E(A)), torch.nuclear_norm(A))
    close(ember.frobenius_norm(E(A), (0, 1)), torch.frobenius_norm(A, (0, 1)))
    B = torch.randn(2, 3, 4, dtype=torch.float64)
    close(ember.nuclear_norm(E(B), (1, 2), True), torch.nuclear_norm(B, (1, 2), True))


@pytest.mark.parametrize("name", ["relu_", "sigmoid_", "tanh_", "exp_", "neg_", "sqrt_",
                                  "floor_", "zero_", "abs_"])
def test_toplevel_inplace(name):
    t = torch.rand(4) + 0.1
    e = E(t)
    rt = getattr(torch, name)(t)
    re = getattr(ember, name)(e)
    assert re is e
    close(e, t)
    close(re, rt)


def test_toplevel_misc():
    t = torch.randn(3)
    e = E(t)
    close(ember.clamp_(e, -0.1, 0.1), torch.clamp_(t, -0.1, 0.1))
    close(ember.fill(e, 2.0), torch.fill(t, 2.0))
    d = ember.detach(ember.ones(2, requires_grad=True))
    assert not d.requires_grad
    x = ember.zeros(3)
    ember.index_put_(x, (ember.tensor([1]),), ember.tensor(5.0))
    assert x.tolist() == [0.0, 5.0, 0.0]
    assert ember.typename(ember.zeros(1)).endswith("FloatTensor")
    assert ember.typename(3) == torch.typename(3) == "int"


def test_more_tensor_methods_match_torch() -> None:
    import numpy as np

    a = np.array([[1.0, -2.0, 0.3], [3.0, 0.5, -0.1]], dtype=np.float32)
    for name, call in [
        ("hardshrink", lambda m, x: x.hardshrink(0.4)),
        ("prelu", lambda m, x: x.prelu(m.tensor([0.25]))),
        ("cov", lambda m, x: x.cov(correction=0)),
        ("corrcoef", lambda m, x: x.corrcoef()),
        ("nextafter", lambda m, x: x.nextafter(m.zeros(1))),
        ("renorm_", lambda m, x: x.clone().renorm_(2, 0, 1.0)),
        ("unsafe_split", lambda m, x: m.stack(x.unsafe_split(1, 1), 0)),
        ("unsafe_chunk", lambda m, x: x.unsafe_chunk(2, 0)[1]),
        ("histogram", lambda m, x: x.histogram(4).hist),
        ("unique_consecutive", lambda m, x: m.tensor([1, 1, 2, 2, 1]).unique_consecutive()),
        ("new", lambda m, x: x.new([[1, 2, 3]]) + x.new(1, 3).zero_()),
    ]:
        ours, theirs = call(ember, ember.tensor(a)), call(torch, torch.tensor(a))
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, err_msg=name)
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1], name


def test_log_normal_cauchy_geometric_fill_with_the_right_law() -> None:
    ember.manual_seed(0)
    x = ember.zeros(40000, dtype=ember.float64)
    logs = x.log_normal_(0.5, 0.3).log()
    assert abs(logs.mean().item() - 0.5) < 0.01 and abs(logs.std().item() - 0.3) < 0.01
    c = x.cauchy_(1.0, 2.0)
    q1, q3 = c.quantile(ember.tensor([0.25, 0.75], dtype=ember.float64)).tolist()
    assert abs(q1 - (-1.0)) < 0.1 and abs(q3 - 3.0) < 0.1  # median +- sigma
    g = x.geometric_(0.25)
    assert g.min().item() >= 1 and abs(g.mean().item() - 4.0) < 0.1
    assert bool((g == g.round()).all())
    for lib in (torch, ember):
        with pytest.raises(RuntimeError):
            lib.zeros(3).geometric_(1.5)
        with pytest.raises(RuntimeError):
            lib.zeros(3).log_normal_(0.0, -1.0)


def test_remaining_tensor_methods_match_torch() -> None:
    import warnings

    import numpy as np

    rng = np.random.default_rng(0)
    a = np.triu(rng.standard_normal((3, 3))) + 3 * np.eye(3)
    b = rng.standard_normal((3, 2))
    for kw in ({}, {"transpose": True}, {"unitriangular": True}):
        e = ember.tensor(b).triangular_solve(ember.tensor(a), **kw)
        with warnings.catch_warnings():  # torch's deprecation notice (warned once)
            warnings.simplefilter("ignore")
            t = torch.tensor(b).triangular_solve(torch.tensor(a), **kw)
        np.testing.assert_allclose(e.solution.numpy(), t.solution.numpy(), atol=1e-12)
        np.testing.assert_array_equal(e.cloned_coefficient.numpy(), t.cloned_coefficient.numpy())
    x, tx = ember.tensor([[1.0, 0], [3, 4]]), torch.tensor([[1.0, 0], [3, 4]])
    assert x.T.dim_order() == tx.T.dim_order() and x.dim_order() == tx.dim_order()
    assert x.nonzero_static(size=5).tolist() == tx.nonzero_static(size=5).tolist()
    assert x.nonzero_static(size=1).tolist() == tx.nonzero_static(size=1).tolist()
    assert x.clone().map_(ember.tensor([1.0, 2]), lambda p, q: p * q).tolist() == \
        tx.clone().map_(torch.tensor([1.0, 2]), lambda p, q: p * q).tolist()
    assert x.adjoint().tolist() == tx.adjoint().tolist()
    for name in ("is_mps", "is_xpu", "is_quantized", "is_nested", "is_sparse_csr", "is_mkldnn"):
        assert getattr(x, name) == getattr(tx, name) is False
    assert x.is_distributed() == tx.is_distributed() and x.to_dense() is x
    np.testing.assert_allclose(ember.tensor(a).geqrf()[0].numpy(),
                               torch.tensor(a).geqrf()[0].numpy(), atol=1e-12)
    v = np.array([2.5, 3.0])
    np.testing.assert_allclose(ember.tensor(v).mvlgamma_(2).numpy(),
                               torch.tensor(v).mvlgamma_(2).numpy(), rtol=1e-12)
    np.testing.assert_allclose(ember.tensor(v).polygamma_(1).numpy(),  # torch: ~3e-10 off
                               torch.tensor(v).polygamma_(1).numpy(), rtol=1e-8)
