"""More sparse COO ops compared with torch: indexing (s[i], select, index_select, narrow_copy),
unsqueeze, permute, cat/stack, sum(keepdim), conversions, arithmetic, in-place ops,
sparse_resize_, spdiags and sampled_addmm (CSR).

torch runs the forward of most indexing and joining ops on sparse tensors but raises in their
backward; there the gradients are compared with torch's for the same op on the dense tensor
(`dense_oracle`), read at the sparse tensor's entries.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_sparse import INDICES, SHAPE, VALUES, as_np, assert_same, both

import ember

HYBRID_INDICES = [[0, 2, 0]]  # one sparse dim, repeated coordinate 0
HYBRID_VALUES = np.arange(6, dtype=np.float32).reshape(3, 2) - 2
HYBRID3_VALUES = np.arange(12, dtype=np.float32).reshape(3, 2, 2) - 5  # dense dims (2, 2)


def make_input(lib, kind, coalesce=False, leaf=False):
    """(sparse tensor, the tensor whose .grad to read): values `v` or the sparse leaf."""
    indices, values, shape = {
        "matrix": (INDICES, VALUES, SHAPE),
        "hybrid": (HYBRID_INDICES, HYBRID_VALUES, (3, 2)),
        "hybrid3": (HYBRID_INDICES, HYBRID3_VALUES, (3, 2, 2)),
    }[kind]
    v = lib.tensor(values, requires_grad=not leaf)
    s = lib.sparse_coo_tensor(lib.tensor(indices), v, shape, requires_grad=leaf)
    source = s if leaf else v
    return (s.coalesce() if coalesce else s), source


def weights(lib, shape):
    n = int(np.prod(shape)) if shape else 1
    return lib.tensor((np.arange(n, dtype=np.float32) % 7 - 3).reshape(shape))


def dense_oracle(kind, fn, leaf):
    """torch's output and gradient for `fn` applied to the dense tensor: the gradient reaching
    the values (leaf=False) or, for a sparse leaf, the dense gradient masked to its entries."""
    s, v = make_input(torch, kind, leaf=False)
    dense = s.to_dense()
    if leaf:
        dense = dense.detach().requires_grad_()
    out = fn(torch, dense)
    (out * weights(torch, tuple(out.shape))).sum().backward()
    if not leaf:
        return out, v.grad
    mask = torch.sparse_coo_tensor(s._indices(), torch.ones_like(s._values()), s.shape)
    return out, dense.grad * (mask.to_dense() != 0)


def ember_run(kind, fn, coalesce, leaf):
    s, source = make_input(ember, kind, coalesce, leaf)
    out = fn(ember, s)
    target = out.to_dense() if out.layout is ember.sparse_coo else out
    (target * weights(ember, tuple(target.shape))).sum().backward()
    return s, out, source.grad


# ops whose backward torch lacks on sparse tensors: forward vs torch, gradients vs the oracle
INDEXING = {
    "s[0]": ("matrix", lambda lib, s: s[0]),
    "s[-1]": ("matrix", lambda lib, s: s[-1]),
    "s[0,2]": ("matrix", lambda lib, s: s[0, 2]),
    "s[:,2]": ("matrix", lambda lib, s: s[:, 2]),
    "s[...,1]": ("matrix", lambda lib, s: s[..., 1]),
    "s[0,...]": ("matrix", lambda lib, s: s[0, ...]),
    "s[None]": ("matrix", lambda lib, s: s[None]),
    "s[0,None]": ("matrix", lambda lib, s: s[0, None]),
    "s[:,None,2]": ("matrix", lambda lib, s: s[:, None, 2]),
    "s[0][2]": ("matrix", lambda lib, s: s[0][2]),
    "s[tensor(1)]": ("matrix", lambda lib, s: s[lib.tensor(1), np.int64(-1)]),
    "select": ("matrix", lambda lib, s: s.select(1, -2)),
    "torch.select": ("matrix", lambda lib, s: lib.select(s, 0, 1)),
    "index_select0": ("matrix", lambda lib, s: s.index_select(0, lib.tensor([2, 0, 0]))),
    "index_select1": ("matrix", lambda lib, s: s.index_select(1, lib.tensor([2, 1, 0, 2]))),
    "torch.index_select": ("matrix", lambda lib, s: lib.index_select(s, 0, lib.tensor([1]))),
    "index_select_empty": ("matrix",
                           lambda lib, s: s.index_select(0, lib.tensor([], dtype=lib.long))),
    "narrow_copy0": ("matrix", lambda lib, s: s.narrow_copy(0, 1, 2)),
    "narrow_copy1": ("matrix", lambda lib, s: s.narrow_copy(1, 1, 2)),
    "unsqueeze0": ("matrix", lambda lib, s: s.unsqueeze(0)),
    "unsqueeze2": ("matrix", lambda lib, s: s.unsqueeze(2)),
    "unsqueeze-2": ("matrix", lambda lib, s: s.unsqueeze(-2)),
    "cat0": ("matrix", lambda lib, s: lib.cat([s, s * 2], 0)),
    "cat-1": ("matrix", lambda lib, s: lib.cat([s, s.t().t(), s], -1)),
    "stack0": ("matrix", lambda lib, s: lib.stack([s, -s], 0)),
    "stack2": ("matrix", lambda lib, s: lib.stack([s, s], 2)),
    "hstack": ("matrix", lambda lib, s: lib.hstack([s, s])),
    "vstack": ("matrix", lambda lib, s: lib.vstack([s, s])),
    "vstack_rows": ("matrix", lambda lib, s: lib.vstack([s[0], s[2]])),
    "sum0_keepdim": ("matrix", lambda lib, s: s.sum(0, keepdim=True)),
    "sum-1_keepdim": ("matrix", lambda lib, s: s.sum(-1, keepdim=True)),
    "sum01_keepdim": ("matrix", lambda lib, s: s.sum((0, 1), keepdim=True)),
    # hybrid tensors: one sparse dim, dense dims in the values
    "h[0]": ("hybrid", lambda lib, s: s[0]),
    "h[1,1]": ("hybrid", lambda lib, s: s[1, 1]),
    "h.select_dense": ("hybrid", lambda lib, s: s.select(1, 1)),
    "h[:,0]": ("hybrid", lambda lib, s: s[:, 0]),
    "h.index_select_dense": ("hybrid", lambda lib, s: s.index_select(1, lib.tensor([1, 1, 0]))),
    "h.index_select_sparse": ("hybrid", lambda lib, s: s.index_select(0, lib.tensor([0, 2]))),
    "h.narrow_copy_dense": ("hybrid", lambda lib, s: s.narrow_copy(1, 1, 1)),
    "h.cat_dense": ("hybrid", lambda lib, s: lib.cat([s, s * 3], 1)),
    "h.cat_sparse": ("hybrid", lambda lib, s: lib.cat([s, s], 0)),
    "h.stack1": ("hybrid", lambda lib, s: lib.stack([s, s * 3], 1)),
    "h.stack2": ("hybrid", lambda lib, s: lib.stack([s, s * 3], 2)),
    "h.unsqueeze1": ("hybrid", lambda lib, s: s.unsqueeze(1)),
    "h.unsqueeze2": ("hybrid", lambda lib, s: s.unsqueeze(2)),
    "h.sum1_keepdim": ("hybrid", lambda lib, s: s.sum(1, keepdim=True)),
    "h.sum0_keepdim": ("hybrid", lambda lib, s: s.sum(0, keepdim=True)),
    "h3.select_dense": ("hybrid3", lambda lib, s: s.select(2, 0)),
    "h3.narrow_copy_sparse": ("hybrid3", lambda lib, s: s.narrow_copy(0, 0, 1)),
}


def check_forward(t_out, e_out):
    """Same values and layout; a sparse result also has the same coalesced flag and dims."""
    assert_same(t_out, e_out)
    if t_out.layout == torch.sparse_coo:
        assert e_out.is_coalesced() == t_out.is_coalesced()
        assert (e_out.sparse_dim(), e_out.dense_dim()) == (t_out.sparse_dim(), t_out.dense_dim())
    assert e_out.dtype.name == str(t_out.dtype).replace("torch.", "")


@pytest.mark.parametrize("coalesce", [False, True], ids=["uncoalesced", "coalesced"])
@pytest.mark.parametrize("name", list(INDEXING))
def test_indexing_and_joining(name, coalesce):
    kind, fn = INDEXING[name]
    t_s, _ = make_input(torch, kind, coalesce)
    t_out = fn(torch, t_s)
    for leaf in (False, True):
        s, e_out, e_grad = ember_run(kind, fn, coalesce, leaf)
        check_forward(t_out, e_out)
        if not leaf and t_out.grad_fn is not None:
            assert e_out.grad_fn.name() == t_out.grad_fn.name()
        oracle_out, oracle_grad = dense_oracle(kind, fn, leaf)
        target = e_out.to_dense() if e_out.layout is ember.sparse_coo else e_out
        np.testing.assert_allclose(as_np(target), as_np(oracle_out), atol=1e-6)
        if leaf:  # the leaf's gradient is sparse, on its coordinates
            assert e_grad.layout is ember.sparse_coo
            np.testing.assert_array_equal(e_grad.coalesce().indices().numpy(),
                                          s.coalesce().indices().numpy())
            e_grad = e_grad.to_dense()
        np.testing.assert_allclose(as_np(e_grad), as_np(oracle_grad), atol=1e-6)


def test_permute_and_transpose_of_dense_dims():
    """torch differentiates permute; transpose refuses dense dims, permute across the
    sparse/dense border is refused by both."""
    for kind, dims in (("matrix", (1, 0)), ("hybrid3", (0, 2, 1))):
        def run(lib, kind=kind, dims=dims):
            s, v = make_input(lib, kind)
            out = s.permute(*dims)
            (out.to_dense() * weights(lib, tuple(out.shape))).sum().backward()
            return out, v.grad

        (t_out, t_grad), (e_out, e_grad) = both(run)
        check_forward(t_out, e_out)
        assert e_out.grad_fn.name() == t_out.grad_fn.name()
        assert_same(t_grad, e_grad)
    same_error(lambda lib: make_input(lib, "hybrid3")[0].permute(2, 1, 0))
    same_error(lambda lib: make_input(lib, "hybrid3")[0].transpose(1, 2))


# ------------------------------------------------------------------------------ errors


def same_error(fn, same_message=True):
    """fn(torch) and fn(ember) raise the same exception type (and message, "torch." read as
    "ember.", Ember's "op: " prefix on dim errors and added hints aside)."""
    with pytest.raises(Exception) as t_info:
        fn(torch)
    with pytest.raises(type(t_info.value)) as e_info:
        fn(ember)
    if same_message:
        expected = str(t_info.value).replace("torch.", "ember.")
        message = str(e_info.value)
        assert message.split(": ", 1)[-1] == expected or message.startswith(expected), message


def matrix(lib):
    return make_input(lib, "matrix")[0]


@pytest.mark.parametrize("fn", [
    lambda lib: matrix(lib)[5],
    lambda lib: matrix(lib)[0, 5],
    lambda lib: matrix(lib)[:, -5],
    lambda lib: matrix(lib)[0, 1, 2],
    lambda lib: matrix(lib).select(0, 3),
    lambda lib: matrix(lib).select(0, -4),
    lambda lib: matrix(lib).select(2, 0),
    lambda lib: matrix(lib).index_select(0, lib.tensor([3])),
    lambda lib: matrix(lib).index_select(0, lib.tensor([[0]])),
    lambda lib: matrix(lib).index_select(0, lib.tensor([0], dtype=lib.int32)),
    lambda lib: matrix(lib).index_select(0, lib.tensor(1)),
    lambda lib: matrix(lib).narrow_copy(0, 2, 2),
    lambda lib: matrix(lib).narrow_copy(0, -2, 2),
    lambda lib: matrix(lib).unsqueeze(3),
    lambda lib: lib.cat([matrix(lib), lib.sparse_coo_tensor(INDICES, VALUES, (3, 5))], 0),
    lambda lib: lib.cat([matrix(lib), lib.ones(3, 4)], 0),
    lambda lib: lib.cat([matrix(lib), lib.ones(3, 4).to_sparse(1)], 0),
    lambda lib: lib.cat([matrix(lib), matrix(lib)], 2),
    lambda lib: lib.stack([matrix(lib), lib.sparse_coo_tensor(INDICES, VALUES, (3, 5))]),
    lambda lib: lib.stack([matrix(lib), lib.ones(3, 4)]),
    lambda lib: matrix(lib).div(lib.ones(4)),
    lambda lib: matrix(lib).div(matrix(lib)),
    lambda lib: matrix(lib) - lib.ones(3, 4),
    lambda lib: matrix(lib).clone().add_(lib.ones(3, 4)),
    lambda lib: matrix(lib).long().div_(2),
    lambda lib: matrix(lib).clone().copy_(lib.ones(3, 4)),
    lambda lib: matrix(lib).sparse_resize_((2, 5), 2, 0),
    lambda lib: matrix(lib).sparse_resize_((3, 4, 2), 2, 1),
    lambda lib: matrix(lib).sparse_resize_((3, 4, 2), 3, 0),
    lambda lib: matrix(lib).sparse_resize_((4, 5), 3, 0),
    lambda lib: lib.sparse_coo_tensor(INDICES, VALUES, SHAPE, requires_grad=True).mul_(2),
    lambda lib: lib.sparse_coo_tensor(INDICES, VALUES, SHAPE,
                                      requires_grad=True).sparse_resize_((4, 5), 2, 0),
])
def test_errors_match_torch(fn):
    same_error(fn)


@pytest.mark.parametrize("fn", [
    lambda lib: matrix(lib)[1:3],
    lambda lib: matrix(lib)[:],
    lambda lib: matrix(lib)[...],
    lambda lib: matrix(lib)[:, :],
    lambda lib: matrix(lib)[lib.tensor([0, 2])],
    lambda lib: matrix(lib)[[0, 1]],
    lambda lib: matrix(lib)[True],
    lambda lib: matrix(lib).narrow(0, 0, 2),
    lambda lib: matrix(lib).unsqueeze(0).squeeze(0),
    lambda lib: matrix(lib).clone().pow_(2),
    lambda lib: matrix(lib).exp(),
    lambda lib: lib.sparse.sampled_addmm(lib.eye(3), lib.ones(3, 2), lib.ones(2, 3)),
])
def test_refusals_raise_not_implemented_as_torch(fn):
    """What torch refuses (strided views, tensor indices...) raises NotImplementedError; the
    message names the operation and the layout instead of torch's dispatcher key."""
    same_error(fn, same_message=False)


def test_refused_messages_name_the_op_and_layout():
    s = matrix(ember)
    for fn, op in [(lambda: s[1:3], r"slicing \(a strided view\)"),
                   (lambda: s[ember.tensor([0])], "indexing with tensors"),
                   (lambda: s.narrow(0, 0, 2), r"narrow \(a strided view"),
                   (lambda: s.to_sparse_csr().index_select(0, ember.tensor([0])),
                    "index_select")]:
        with pytest.raises(NotImplementedError, match=f"{op}.* is not implemented for sparse "
                                                      r"tensors \(layout ember.sparse_c"):
            fn()


# ------------------------------------------------------------------------------ conversions


CONVERSIONS = {
    "to_double": lambda lib, s: s.to(lib.float64),
    "double": lambda lib, s: s.double(),
    "double_float": lambda lib, s: s.double().float(),
    "clone": lambda lib, s: s.clone(),
    "torch_clone_method": lambda lib, s: s.clone() * 2,
    "neg": lambda lib, s: -s,
    "neg_method": lambda lib, s: s.neg(),
    "negative": lambda lib, s: s.negative(),
    "sub": lambda lib, s: s - s * 3,
    "sub_alpha": lambda lib, s: s.sub(s.coalesce(), alpha=2),
    "div": lambda lib, s: s.div(4),
    "div_0d": lambda lib, s: s / lib.tensor(4.0),
    "div_zero": lambda lib, s: s / 0,
    "div_floor": lambda lib, s: s.div(-4, rounding_mode="floor"),
    "div_trunc": lambda lib, s: s.div(-4, rounding_mode="trunc"),
    "add_coalesced": lambda lib, s: s.coalesce() + s.coalesce() * 2,
}


@pytest.mark.parametrize("coalesce", [False, True], ids=["uncoalesced", "coalesced"])
@pytest.mark.parametrize("name", list(CONVERSIONS))
def test_conversions_and_arithmetic(name, coalesce):
    """torch differentiates these: forward, grad_fn name and both kinds of gradient compared."""
    fn = CONVERSIONS[name]

    def run(lib, leaf):
        s, source = make_input(lib, "matrix", coalesce, leaf)
        out = fn(lib, s)
        target = out.to_dense()
        (target.float() * weights(lib, tuple(target.shape))).sum().backward()
        return out, source.grad

    for leaf in (False, True):
        (t_out, t_grad), (e_out, e_grad) = run(torch, leaf), run(ember, leaf)
        check_forward(t_out, e_out)
        if not leaf:
            assert e_out.grad_fn.name() == t_out.grad_fn.name()
        if t_grad is not None and t_grad.layout == torch.sparse_coo:
            assert e_grad.layout is ember.sparse_coo
            t_grad, e_grad = t_grad.to_dense(), e_grad.to_dense()
        assert_same(t_grad, e_grad)


@pytest.mark.parametrize("coalesce", [False, True], ids=["uncoalesced", "coalesced"])
@pytest.mark.parametrize("name", ["floor_divide", "floordiv", "index_select_negative"])
def test_forward_only_ops(name, coalesce):
    """torch runs these forward but has no derivative for them (Ember's gradient is zero for
    the rounding divisions, and the dense op's for index_select)."""
    fn = {"floor_divide": lambda lib, s: s.floor_divide(2),
          "floordiv": lambda lib, s: s // -3,
          "index_select_negative": lambda lib, s: s.index_select(1, lib.tensor([-1, 2, -4]))}[name]
    check_forward(*both(lambda lib: fn(lib, make_input(lib, "matrix", coalesce)[0])))


@pytest.mark.parametrize("name", ["long", "int", "bool", "half", "float"])
def test_dtype_methods(name):
    t, e = both(lambda lib: getattr(make_input(lib, "matrix")[0].detach(), name)())
    check_forward(t, e)


def test_parts_detach_and_requires_grad():
    t, e = both(lambda lib: make_input(lib, "hybrid")[0].detach())
    assert e.grad_fn is None and not e.requires_grad
    assert (e.sparse_dim(), e.dense_dim(), e._nnz(), e.is_coalesced()) == (
        t.sparse_dim(), t.dense_dim(), t._nnz(), t.is_coalesced())
    assert e.to_sparse_coo() is e and t.to_sparse_coo() is t
    assert not hasattr(t, "nnz") and not hasattr(e, "nnz")  # torch has _nnz() only

    def leaf_grad(lib):
        s = make_input(lib, "matrix")[0].detach().requires_grad_()
        assert s.is_leaf and s.requires_grad
        lib.sparse.sum(s * 3).backward()
        return s.grad

    assert_same(*both(leaf_grad))
    same_error(lambda lib: make_input(lib, "matrix")[0].detach().long().requires_grad_(),
               same_message=False)


def test_empty_sparse_tensor_from_size():
    t, e = both(lambda lib: lib.sparse_coo_tensor(size=(3, 4), dtype=lib.float64))
    check_forward(t, e)
    assert repr(e) == repr(t).replace("torch.", "ember.")


@pytest.mark.parametrize("name", ["isnan", "isinf", "isposinf", "isneginf", "signbit",
                                  "nan_to_num", "erfinv", "fix", "absolute", "positive",
                                  "conj_physical"])
def test_more_zero_preserving_ops(name):
    values = np.array([0.3, -0.2, np.inf, -np.inf, 0.5], dtype=np.float32)
    if name == "erfinv":
        values = VALUES * 0.1

    def run(lib):
        v = lib.tensor(values)
        return getattr(lib.sparse_coo_tensor(lib.tensor(INDICES), v, SHAPE), name)()

    t, e = both(run)
    check_forward(t, e)


def test_csr_select_goes_through_coo():
    t, e = both(lambda lib: make_input(lib, "matrix", coalesce=True)[0].to_sparse_csr()[1])
    check_forward(t, e)


# ------------------------------------------------------------------------------ in place


INPLACE = {
    "mul_": lambda lib, s: s.mul_(2.5),
    "mul_dense": lambda lib, s: s.mul_(lib.arange(12.0).reshape(3, 4)),
    "mul_sparse": lambda lib, s: s.mul_(make_input(lib, "matrix", True)[0].detach()),
    "add_": lambda lib, s: s.add_(make_input(lib, "matrix", True)[0].detach(), alpha=2),
    "iadd": lambda lib, s: s.__iadd__(make_input(lib, "matrix", True)[0].detach()),
    "sub_": lambda lib, s: s.sub_(make_input(lib, "matrix", True)[0].detach()),
    "div_": lambda lib, s: s.div_(4),
    "itruediv": lambda lib, s: s.__itruediv__(4),
    "div_floor_": lambda lib, s: s.div_(3, rounding_mode="floor"),
    "neg_": lambda lib, s: s.neg_(),
    "abs_": lambda lib, s: s.abs_(),
    "sqrt_": lambda lib, s: s.abs_().sqrt_(),
    "tanh_": lambda lib, s: s.tanh_(),
    "relu_": lambda lib, s: s.relu_(),
    "t_": lambda lib, s: s.t_(),
    "transpose_": lambda lib, s: s.transpose_(0, 1),
    "copy_": lambda lib, s: s.copy_(make_input(lib, "matrix")[0].detach() * 3),
    "zero_": lambda lib, s: s.zero_(),
}


@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace_ops(name):
    """On a coalesced non-leaf (where torch's backward works), and on a plain tensor."""
    fn = INPLACE[name]

    def run(lib):
        s, v = make_input(lib, "matrix", coalesce=True)
        version = s._version
        out = fn(lib, s)
        assert out is s and s._version > version
        target = s.to_dense()
        try:
            (target * weights(lib, tuple(target.shape))).sum().backward()
        except (RuntimeError, NotImplementedError):  # torch lacks some sparse derivatives
            return s, None
        return s, v.grad

    (t_out, t_grad), (e_out, e_grad) = both(run)
    assert_same(t_out, e_out)
    if t_grad is not None:
        assert_same(t_grad, e_grad)
    t, e = both(lambda lib: fn(lib, make_input(lib, "matrix", coalesce=True)[0].detach()))
    assert_same(t, e)
    uncoalesced = both(lambda lib: make_input(lib, "matrix")[0].detach())
    if name in ("abs_", "sqrt_", "tanh_", "relu_"):  # torch wants one value per coordinate
        same_error(lambda lib: fn(lib, uncoalesced[lib is ember]))
    else:
        assert_same(fn(torch, uncoalesced[0]), fn(ember, uncoalesced[1]))


def test_copy_takes_size_and_dtype():
    def run(lib):
        dest = lib.sparse_coo_tensor(size=(2, 2), dtype=lib.float64)
        return dest.copy_(make_input(lib, "matrix")[0].detach())

    t, e = both(run)
    check_forward(t, e)


def test_sparse_resize():
    def grow(lib):
        s = make_input(lib, "hybrid")[0].detach()
        return s.sparse_resize_((5, 2), 1, 1)

    check_forward(*both(grow))

    def clear(lib):
        return make_input(lib, "matrix")[0].detach().sparse_resize_and_clear_((2, 2, 5), 3, 0)

    t, e = both(clear)
    check_forward(t, e)
    assert repr(e) == repr(t).replace("torch.", "ember.")

    def empty(lib):
        s = lib.sparse_coo_tensor(lib.zeros(2, 0, dtype=lib.long), lib.zeros(0), (3, 4))
        return s.sparse_resize_((2, 2, 2), 1, 2)

    check_forward(*both(empty))
    e = make_input(ember, "hybrid")[0].detach().sparse_resize_((3, 3), 1, 1)  # new room is 0
    np.testing.assert_array_equal(e._values().numpy()[:, 2], 0)


# ------------------------------------------------------------------------------ spdiags


@pytest.mark.parametrize("diagonals, offsets, shape", [
    ([[1.0, 2, 3], [4, 5, 6]], [0, -1], (3, 3)),
    ([[1.0, 2, 3, 4], [5, 6, 7, 8]], [1, -2], (3, 4)),
    ([[1.0, 2, 3, 4, 5]], [0], (3, 3)),
    ([[1.0, 2]], [0], (3, 3)),
    ([1.0, 0, 3], [0], (3, 3)),
    ([[1.0, 2, 3]], 0, (2, 4)),
    ([[1.0, 2, 3], [4, 5, 6], [7, 8, 9]], [2, 0, -2], (3, 5)),
])
def test_spdiags(diagonals, offsets, shape):
    d = np.array(diagonals, dtype=np.float32)

    def run(lib, layout=None):
        return lib.sparse.spdiags(lib.tensor(d), lib.tensor(offsets), shape, layout=layout)

    check_forward(*both(run))
    t, e = run(torch, torch.sparse_csr), run(ember, ember.sparse_csr)
    assert e.layout is ember.sparse_csr
    for part in ("crow_indices", "col_indices", "values"):
        np.testing.assert_array_equal(getattr(e, part)().numpy(), getattr(t, part)().numpy())
    # torch has no derivative for spdiags; Ember's: dL/d diagonals[k, j] = W[j - offset_k, j]
    x = ember.tensor(d, requires_grad=True)
    out = ember.sparse.spdiags(x, ember.tensor(offsets), shape)
    W = np.arange(np.prod(shape), dtype=np.float32).reshape(shape) + 1
    (out.to_dense() * ember.tensor(W)).sum().backward()
    expected = np.zeros(d.reshape(-1, d.shape[-1]).shape, np.float32)
    for k, off in enumerate(np.atleast_1d(offsets)):
        for j in range(expected.shape[1]):
            if 0 <= j - off < shape[0] and j < shape[1]:
                expected[k, j] = W[j - off, j]
    np.testing.assert_allclose(x.grad.numpy().reshape(expected.shape), expected)


@pytest.mark.parametrize("fn", [
    lambda lib: lib.sparse.spdiags(lib.tensor([[1.0, 2, 3]] * 2), lib.tensor([0, 0]), (3, 3)),
    lambda lib: lib.sparse.spdiags(lib.tensor([[1.0, 2, 3]]), lib.tensor([[0]]), (3, 3)),
    lambda lib: lib.sparse.spdiags(lib.tensor([[1.0, 2, 3]]), lib.tensor([0, 1]), (3, 3)),
    lambda lib: lib.sparse.spdiags(lib.tensor([[1.0, 2, 3]]), lib.tensor([0]), (3, 3, 3)),
    lambda lib: lib.sparse.spdiags(lib.tensor([[1.0, 2, 3]]),
                                   lib.tensor([0], dtype=lib.int32), (3, 3)),
])
def test_spdiags_errors(fn):
    same_error(fn)
    with pytest.raises(RuntimeError, match="offset 5 lies outside"):  # torch: a negative size
        ember.sparse.spdiags(ember.tensor([[1.0, 2, 3]]), ember.tensor([5]), (3, 3))


# ------------------------------------------------------------------------------ sampled_addmm


@pytest.mark.parametrize("beta, alpha", [(1.0, 1.0), (0.5, 2.0), (0.0, -1.0)])
def test_sampled_addmm(beta, alpha):
    rng = np.random.RandomState(7)
    A, B = rng.randn(3, 5).astype(np.float32), rng.randn(5, 4).astype(np.float32)

    def run(lib):
        pattern = make_input(lib, "matrix", coalesce=True)[0].detach().to_sparse_csr()
        v = pattern.values().clone().requires_grad_()
        x = lib.sparse_csr_tensor(pattern.crow_indices(), pattern.col_indices(), v, (3, 4))
        a, b = lib.tensor(A, requires_grad=True), lib.tensor(B, requires_grad=True)
        out = lib.sparse.sampled_addmm(x, a, b, beta=beta, alpha=alpha)
        (out.values() ** 2).sum().backward()
        return out, v.grad, a.grad, b.grad

    (t_out, *t_grads), (e_out, *e_grads) = both(run)
    assert e_out.layout is ember.sparse_csr
    for part in ("crow_indices", "col_indices", "values"):
        np.testing.assert_allclose(as_np(getattr(e_out, part)()), as_np(getattr(t_out, part)()),
                                   rtol=1e-5, atol=1e-5)
    assert e_out.grad_fn.name() == t_out.grad_fn.name()
    for t, e in zip(t_grads, e_grads, strict=True):
        np.testing.assert_allclose(as_np(e), as_np(t), rtol=1e-5, atol=1e-5)


def csr(lib, dtype=None):
    out = make_input(lib, "matrix", coalesce=True)[0].detach().to_sparse_csr()
    return out if dtype is None else out.to(dtype)


@pytest.mark.parametrize("fn", [
    lambda lib: lib.sparse.sampled_addmm(csr(lib), lib.ones(3, 5), lib.ones(4, 4)),
    lambda lib: lib.sparse.sampled_addmm(csr(lib), lib.ones(3, 5, dtype=lib.float64),
                                         lib.ones(5, 4)),
    lambda lib: lib.sparse.sampled_addmm(csr(lib, lib.float64), lib.ones(3, 2), lib.ones(2, 4)),
    lambda lib: lib.sparse.sampled_addmm(csr(lib), lib.ones(2, 2), lib.ones(2, 4)),
    lambda lib: lib.sparse.sampled_addmm(csr(lib), lib.ones(3, 2), lib.ones(2, 5)),
    lambda lib: lib.sparse.sampled_addmm(csr(lib), lib.ones(3), lib.ones(2, 4)),
    lambda lib: lib.sparse.sampled_addmm(csr(lib, lib.int64), lib.ones(3, 2, dtype=lib.long),
                                         lib.ones(2, 4, dtype=lib.long)),
])
def test_sampled_addmm_errors(fn):
    same_error(fn)


@pytest.mark.parametrize("call", [
    "lib.sum(s)", "lib.sum(s, 1)", "lib.neg(s)", "lib.sub(s, s)", "lib.subtract(s, s)",
    "lib.div(s, 2)", "lib.clone(s)", "lib.unsqueeze(s, 0)", "lib.narrow_copy(s, 0, 0, 1)",
    "lib.mul(s, 2)", "lib.add(s, s)", "lib.abs(s)", "lib.sqrt(s)", "lib.transpose(s, 0, 1)",
    "lib.swapaxes(s, 0, 1)", "lib.t(s)", "lib.permute(s, (1, 0))", "lib.square(s)",
    "lib.tanh(s)", "lib.isnan(s)", "lib.pow(s, 2)", "lib.floor_divide(s, 2)",
    "lib.sum(input=s, dim=0)", "lib.neg(input=s)", "lib.add(lib.ones(2, 3), s)",
])
def test_top_level_functions_reach_the_sparse_methods(call):
    """torch.<op>(sparse) runs the sparse kernel: same layout and values as torch."""
    results = []
    for lib in (torch, ember):
        s = lib.sparse_coo_tensor([[0, 1, 1], [2, 0, 2]], [3.0, 4.0, 5.0], (2, 3))
        out = eval(call, {"lib": lib, "s": s})
        dense = out.to_dense() if out.layout != lib.strided else out
        results.append((str(out.layout).split(".")[-1], dense.tolist()))
    assert results[1] == results[0]
