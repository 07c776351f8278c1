"""Differential tests of indexing, shape and sorting ops against torch (values, dtypes, layout,
float64 gradients), with regression cases for the discrepancies the fuzzing found."""

import numpy as np
import pytest
import torch

import ember


def _both(array, grad=False):
    t = torch.tensor(array, requires_grad=grad)
    e = ember.tensor(array, requires_grad=grad)
    return t, e


def _same(t, e):
    assert tuple(t.shape) == tuple(e.shape)
    assert str(t.dtype).split(".")[-1] == str(e.dtype).split(".")[-1]
    np.testing.assert_allclose(np.asarray(e.detach().numpy()), t.detach().numpy(), rtol=1e-12)


def _same_grad(run, array, seed=0):
    """run(lib, leaf) -> tensor; the outputs and the float64 gradients of leaf must agree."""
    t, e = _both(array, grad=True)
    out_t, out_e = run(torch, t), run(ember, e)
    _same(out_t, out_e)
    up = np.random.default_rng(seed).standard_normal(tuple(out_t.shape))
    out_t.backward(torch.tensor(up))
    out_e.backward(ember.tensor(up))
    np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def test_index_fill_tensor_value_gradient_counts_each_position_once():
    for index in ([0, 0, 2], [3, 1, 3, 1]):
        x = np.arange(12.0).reshape(3, 4)
        grads = []
        for lib in (torch, ember):
            a = lib.tensor(x, requires_grad=True)
            v = lib.tensor(2.5, dtype=lib.float64, requires_grad=True)
            out = a.index_fill(1, lib.tensor(index), v)
            (out * lib.tensor(x + 1)).sum().backward()
            grads.append((out.detach().numpy(), v.grad.numpy(), a.grad.numpy()))
        for mine, theirs in zip(grads[1], grads[0], strict=True):
            np.testing.assert_allclose(mine, theirs)


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4)])
def test_nonzero_layout_as_torch(shape):
    x = (np.arange(np.prod(shape)).reshape(shape) % 3 == 1)
    t, e = _both(x)
    _same(torch.nonzero(t), ember.nonzero(e))
    assert ember.nonzero(e).is_contiguous() == torch.nonzero(t).is_contiguous()
    assert ember.argwhere(e).is_contiguous() == torch.argwhere(t).is_contiguous()
    for pt, pe in zip(torch.nonzero(t, as_tuple=True), ember.nonzero(e, as_tuple=True),
                      strict=True):
        _same(pt, pe)
        assert pe.is_contiguous() == pt.is_contiguous()
    if len(shape) > 1:  # torch's (n, ndim) result is a transposed block: view(-1) fails
        with pytest.raises(RuntimeError):
            torch.nonzero(t).view(-1)
        with pytest.raises(RuntimeError):
            ember.nonzero(e).view(-1)


@pytest.mark.parametrize("indices", [[1, 4, 2], [-2], [1, -1, 8], [0, 0], [5, 1, 3]])
def test_tensor_split_indices_slice_like_python(indices):
    x = np.arange(24.0).reshape(4, 6)
    for dim in (1, -1):
        t, e = _both(x)
        pt, pe = torch.tensor_split(t, indices, dim), ember.tensor_split(e, indices, dim)
        assert len(pt) == len(pe)
        for a, b in zip(pt, pe, strict=True):
            _same(a, b)
        for a, b in zip(torch.tensor_split(t, torch.tensor(indices), dim),
                        ember.tensor_split(e, ember.tensor(indices), dim), strict=True):
            _same(a, b)


def test_tensor_split_zero_dim_tensor_is_sections():
    t, e = _both(np.arange(10.0))
    pt, pe = torch.tensor_split(t, torch.tensor(4)), ember.tensor_split(e, ember.tensor(4))
    assert len(pt) == len(pe) == 4
    for a, b in zip(pt, pe, strict=True):
        _same(a, b)


def test_tensor_split_pieces_gradient():
    def run(lib, a):
        pieces = lib.tensor_split(a, [1, -2, 2], dim=1)
        return lib.cat([pieces[0] * 2, pieces[2], pieces[3] * a[:, 2:]], 1)

    _same_grad(run, np.random.default_rng(1).standard_normal((3, 6)))


@pytest.mark.parametrize("offset,dim1,dim2", [(0, 0, 2), (1, -1, 0), (-2, 1, 0), (0, -2, -1)])
def test_diag_embed_is_contiguous(offset, dim1, dim2):
    x = np.random.default_rng(2).standard_normal((2, 3))
    _same_grad(lambda lib, a: lib.diag_embed(a, offset, dim1, dim2), x)
    t, e = _both(x)
    out_t, out_e = torch.diag_embed(t, offset, dim1, dim2), ember.diag_embed(e, offset, dim1, dim2)
    assert out_e.is_contiguous() == out_t.is_contiguous()
    _same(out_t.view(-1), out_e.view(-1))


def test_unique_keeps_each_nan():
    x = np.array([2.0, np.nan, 1.0, np.nan, 2.0, 1.0])
    t, e = _both(x)
    for a, b in zip(torch.unique(t, return_inverse=True, return_counts=True),
                    ember.unique(e, return_inverse=True, return_counts=True), strict=True):
        _same(a, b)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_unique_consecutive_dim(dim):
    x = np.array([[1, 1, 2, 2, 1], [1, 1, 3, 3, 1], [1, 1, 3, 3, 1], [0, 0, 0, 0, 0]])
    t, e = _both(x)
    for inverse, counts in [(False, False), (True, False), (False, True), (True, True)]:
        flags = {"return_inverse": inverse, "return_counts": counts, "dim": dim}
        out_t, out_e = torch.unique_consecutive(t, **flags), ember.unique_consecutive(e, **flags)
        out_t, out_e = (out_t, out_e) if isinstance(out_t, tuple) else ((out_t,), (out_e,))
        for a, b in zip(out_t, out_e, strict=True):
            _same(a, b)
            assert a.is_contiguous() == b.is_contiguous()


def _random_key(lib, rng, shape):
    """A random mix of ints, slices, None, Ellipsis, index tensors and boolean masks."""
    key, dim, used_ellipsis = [], 0, False
    while dim < len(shape):
        n = shape[dim]
        kind = rng.integers(7)
        if kind == 0:
            key.append(int(rng.integers(-n, n)))
        elif kind == 1:
            key.append(slice(int(rng.integers(-n, n)), None, int(rng.integers(1, 3))))
        elif kind == 2:
            key.append(None)
            continue
        elif kind == 3 and not used_ellipsis:
            key.append(Ellipsis)
            used_ellipsis = True
            dim = len(shape) - int(rng.integers(0, len(shape) - dim + 1))
            continue
        elif kind == 4:
            key.append(lib.tensor(rng.integers(-n, n, (2, 1) if rng.random() < 0.5 else (3,))))
        elif kind == 5:
            key.append(lib.tensor(rng.random(n) < 0.5))
        else:
            key.append(slice(None))
        dim += 1
    return tuple(key)


def test_random_indexing_get_and_set():
    shape = (4, 5, 3)
    x = np.random.default_rng(3).standard_normal(shape)
    checked = 0
    for seed in range(300):
        keys = [_random_key(lib, np.random.default_rng(seed), shape) for lib in (torch, ember)]
        t, e = _both(x, grad=True)
        try:
            out_t = t[keys[0]]
        except (IndexError, RuntimeError):
            with pytest.raises((IndexError, RuntimeError)):
                e[keys[1]]
            continue
        out_e = e[keys[1]]
        _same(out_t, out_e)
        up = np.random.default_rng(seed).standard_normal(tuple(out_t.shape))
        out_t.backward(torch.tensor(up))
        out_e.backward(ember.tensor(up))
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy())
        # set: a broadcast value of the selection's last dim, then accumulate-free overwrite
        value = np.random.default_rng(seed).standard_normal(tuple(out_t.shape)[-1:])
        ct, ce = t.detach().clone(), e.detach().clone()
        ct[keys[0]] = torch.tensor(value)
        ce[keys[1]] = ember.tensor(value)
        if np.unique(ct.numpy()).size == ct.numel():  # duplicate targets: torch's pick is unset
            np.testing.assert_allclose(ce.numpy(), ct.numpy())
        checked += 1
    assert checked > 100


@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_prod_gradient_with_zeros(include_self):
    x = np.array([[5.0, 0.0, 5.0, 0.0, 3.0, 2.0]])
    src = np.array([[1.0, 1.0, 0.0, 2.0, 0.0, 2.0, 0.0, 7.0, 0.0]])
    index = np.array([[0, 0, 1, 1, 2, 3, 4, 4, 5]])
    _same_grad(lambda lib, a: a.scatter_reduce(1, lib.tensor(index), lib.tensor(src), "prod",
                                               include_self=include_self), x)
    _same_grad(lambda lib, s: lib.tensor(x).scatter_reduce(1, lib.tensor(index), s, "prod",
                                                           include_self=include_self), src)
    source = np.array([[0.0, 2.0], [3.0, 0.0], [0.0, 0.0]])
    _same_grad(lambda lib, s: lib.tensor(x[:, :3].T.copy()).index_reduce(
        1, lib.tensor([0, 0]), s, "prod", include_self=include_self), source)


def test_cat_stack_roll_results_are_contiguous():
    x = np.arange(12.0).reshape(3, 4)
    t, e = _both(x)
    for run in (lambda lib, a: lib.cat([a.t(), a.t()], 1), lambda lib, a: lib.cat([a.t()]),
                lambda lib, a: lib.stack([a.t(), a.t()], 2), lambda lib, a: lib.hstack([a.t()]),
                lambda lib, a: a.t().roll(1, 0), lambda lib, a: a.t().roll(2)):
        out_t, out_e = run(torch, t), run(ember, e)
        assert out_e.is_contiguous() == out_t.is_contiguous()
        _same(out_t.view(-1), out_e.view(-1))


@pytest.mark.parametrize("size", [1, 2, 3])
def test_split_of_empty_dim_gives_one_piece(size):
    t, e = _both(np.zeros((3, 0, 5)))
    pt, pe = torch.split(t, size, 1), ember.split(e, size, 1)
    assert len(pe) == len(pt)
    for a, b in zip(pt, pe, strict=True):
        _same(a, b)


def test_diag_of_a_matrix_is_a_contiguous_copy_and_repeat_interleave_method_takes_output_size():
    results = []
    for lib in (ember, torch):
        m = lib.arange(12.0).reshape(3, 4).requires_grad_()
        d = lib.diag(m, 1)
        copy_is_separate = lib.diag(m.detach()).add_(100)  # must not write into the matrix
        d.backward(lib.tensor([1.0, 2.0, 3.0]))
        repeated = lib.arange(3).repeat_interleave(lib.tensor([2, 0, 1]), output_size=3)
        results.append((d.is_contiguous(), m.detach().numpy().copy(), m.grad.numpy(),
                        repeated.numpy(), copy_is_separate.numpy()))
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_array_equal(ours, theirs)
