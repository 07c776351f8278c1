"""In-place operations under autograd: version-counter errors where torch raises them, leaf
rules, writes through views (CopySlices), and in-place ops' gradients, all compared with torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from autograd_helpers import LIBS, check_same, check_same_error, leaves, rand

import ember

A = rand(3, 4)
B = rand(3, 4, seed=1)
V = rand(4, seed=2)
G = rand(3, 4, seed=3)  # an upstream gradient


# ------------------------------------------------------------------ version counter
def test_modifying_a_saved_output_errors():
    def run(m):
        x, = leaves(m, A)
        y = x.exp()
        y.add_(1)
        y.sum().backward()

    err = check_same_error(run, "modified by an inplace operation", "version")
    assert "ExpBackward0" in str(err)


def test_modifying_a_saved_input_errors():
    def run(m):
        x, = leaves(m, A)
        h = x * 1.0
        y = h.sin()
        h.mul_(2)
        y.sum().backward()

    check_same_error(run, "modified by an inplace operation", "expected version 0")


def test_modifying_an_unsaved_tensor_is_fine():
    def run(m):
        x, = leaves(m, A)
        y = x * 2
        y.mul_(3)  # MulBackward0 saves its inputs, not its output
        y.backward(m.tensor(G))
        return y, x.grad

    check_same(run)

    def add_then_inplace(m):
        x, w = leaves(m, A, V)
        y = x + w
        y.exp_()
        y.backward(m.tensor(G))
        return y, x.grad, w.grad

    check_same(add_then_inplace)


def test_in_place_chain_on_non_leaf():
    def run(m):
        x, = leaves(m, A)
        y = x * 1.5
        y.add_(2).mul_(x).sub_(1).div_(2.0).pow_(2)
        y.clamp_(0.1, 0.9).mul_(2).sqrt_()
        y.backward(m.tensor(G))
        return y, x.grad

    check_same(run)


def test_iadd_on_non_leaf():
    def run(m):
        x, w = leaves(m, A, V)
        y = x.sin()
        before = y
        y += 1
        y *= w
        y -= x
        y /= 2
        assert y is before
        y.backward(m.tensor(G))
        return y, x.grad, w.grad

    check_same(run)


USES = {  # an op using a (non-leaf, requires grad) and c (constant); torch saves only some
    "mul": lambda m, a, c: a * c,
    "mul_scalar": lambda m, a, c: a * 2.0,
    "div": lambda m, a, c: a / c,
    "div_scalar": lambda m, a, c: a / 2.0,
    "rdiv": lambda m, a, c: c / a,
    "matmul": lambda m, a, c: a @ c.t(),
    "vecdot": lambda m, a, c: a[0] @ c[0],
    "pow_scalar": lambda m, a, c: a**2,
    "exp": lambda m, a, c: a.exp(),
    "where": lambda m, a, c: m.where(c > 0, a, c),
    "maximum": lambda m, a, c: m.maximum(a, c),
    "add": lambda m, a, c: a + c,
}


@pytest.mark.parametrize("modified", ["input", "constant"])
@pytest.mark.parametrize("name", list(USES))
def test_in_place_after_use_errors_exactly_when_torch_does(name, modified):
    def run(m):
        x, = leaves(m, A)
        a, c = x.sin(), m.tensor(B)
        y = USES[name](m, a, c)
        (a if modified == "input" else c).add_(1)
        y.sum().backward()
        return x.grad

    try:
        expected = run(torch)
    except RuntimeError:
        check_same_error(run, "modified by an inplace operation")
    else:
        check_same(run)
        assert expected is not None


def test_version_counter_bumps():
    for m in LIBS:
        x = m.tensor(A)
        v = x._version
        x.add_(1)
        x[0] = 2.0
        x.mul_(2)
        assert x._version == v + 3


# ------------------------------------------------------------------ leaves
def test_in_place_on_leaf_errors():
    check_same_error(lambda m: leaves(m, A)[0].add_(1), "leaf", "in-place")
    check_same_error(lambda m: leaves(m, A)[0].__setitem__(0, 1.0), "leaf", "in-place")

    def iadd(m):
        x, = leaves(m, A)
        x += 1

    check_same_error(iadd, "leaf", "in-place")


def test_in_place_on_leaf_under_no_grad_is_allowed():
    def run(m):
        x, = leaves(m, A)
        with m.no_grad():
            x.mul_(2)
            x[0, 0] = 5.0
            x -= 0.5
        assert x.is_leaf and x.requires_grad
        (x * x).sum().backward()
        return x, x.grad

    check_same(run)


def test_in_place_on_view_of_leaf_errors():
    check_same_error(lambda m: leaves(m, A)[0][0].mul_(2), "view", "leaf")
    check_same_error(lambda m: leaves(m, A)[0].view(12).zero_(), "view", "leaf")
    check_same_error(lambda m: leaves(m, A)[0].t().add_(1), "view", "leaf")


# ------------------------------------------------------------------ setitem
def test_setitem_on_non_leaf():
    def run(m):
        x, v = leaves(m, A, V[:3])
        y = x * 2
        y[:, 1] = v
        y[0, 0] = 7.0
        y[y > 1.5] = 0.0
        (y * y).backward(m.tensor(G))
        return y, x.grad, v.grad

    check_same(run)


def test_setitem_into_zeros_buffer():
    def run(m):
        x, = leaves(m, A)
        buf = m.zeros(5, 4, dtype=m.float64)
        buf[1:4] = x.exp()
        buf[4] = x[0] * 3
        buf[m.tensor([0, 2])] += x[1:3]
        assert buf.requires_grad and buf.grad_fn is not None
        buf.backward(m.tensor(rand(5, 4, seed=9)))
        return buf, x.grad

    check_same(run)


def test_setitem_with_advanced_index_and_repeats():
    def run(m):
        x, v = leaves(m, A, V[:2])
        y = x + 0
        y[m.tensor([0, 2]), m.tensor([1, 3])] = v
        y.backward(m.tensor(G))
        return y, x.grad, v.grad

    check_same(run)


# ------------------------------------------------------------------ writes through views
def test_mul_through_row_view():
    def run(m):
        x, w = leaves(m, A, V)
        base = x.sin()  # saves x, not its output
        base[0].mul_(w)
        base.backward(m.tensor(G))
        return base, x.grad, w.grad

    check_same(run)


def test_copy_into_column_slice():
    def run(m):
        x, v = leaves(m, A, rand(3, 2, seed=4))
        base = x * 1.0
        base[:, 1:3].copy_(v)
        (base * base).backward(m.tensor(G))
        return base, x.grad, v.grad

    check_same(run)


def test_in_place_through_reshaped_view():
    def run(m):
        x, = leaves(m, A)
        base = x.sin()
        flat = base.view(12)
        flat[::2].mul_(3)
        flat.add_(1)
        assert base._version == flat._version
        base.backward(m.tensor(G))
        return base, flat, x.grad

    check_same(run)


def test_in_place_through_transposed_view():
    def run(m):
        x, w = leaves(m, A, V[:3])
        base = x.cos()
        tv = base.t()
        tv[1].mul_(w)  # column 1 of base
        tv.add_(0.5)
        (base * x).backward(m.tensor(G))
        return base, tv, x.grad, w.grad

    check_same(run)


def test_view_sees_changes_made_to_base():
    def run(m):
        x, = leaves(m, A)
        base = x * 2
        view = base[1]
        base.mul_(x)
        (view * 3).sum().backward()  # view's graph is rebuilt from the new base
        return view, x.grad

    check_same(run)


def test_views_made_before_an_in_place_op_follow_the_new_history():
    def run(m):
        x, w = leaves(m, A, V)
        base = x * 1.0
        row, col, flat = base[1], base[:, 2], base.view(12)
        base[0].mul_(w)  # through another view
        base.add_(x)  # through the base itself
        assert row.requires_grad and not row.is_leaf
        (row * 2).sum().backward(retain_graph=True)
        (col * flat[:3].sum()).sum().backward()
        return x.grad, w.grad

    check_same(run)


def test_view_of_constant_base_requires_grad_after_in_place_write():
    def run(m):
        w, = leaves(m, V)
        base = m.zeros(3, 4, dtype=m.float64)
        row = base[0]
        base[0].copy_(w * 2)
        assert row.requires_grad
        (row * row).sum().backward()
        return row, w.grad

    check_same(run)


def test_view_made_under_no_grad_then_base_modified_errors():
    def run(m):
        x, = leaves(m, A)
        base = x * 2
        with m.no_grad():
            v = base[0]
        base.mul_(2)
        return v * 2

    check_same_error(run, "no_grad", "view", "modified inplace")

    def both_under_no_grad(m):
        x, = leaves(m, A)
        base = x * 2
        with m.no_grad():
            v = base[0]
            base.mul_(2)
        return v.detach() * 2, base

    check_same(both_under_no_grad)


def test_detached_view_is_not_a_view_for_autograd():
    def run(m):
        x, w = leaves(m, A, V)
        x[0].detach().zero_()  # allowed: the detached tensor is no view of the leaf
        b = x * 2
        d = b[1].detach()
        d.copy_(w * 3)  # writes b's memory but does not change b's history
        assert d.grad_fn is not None and b.grad_fn.name() == "MulBackward0"
        (b.sum() + d.sum()).backward()
        return b, x, x.grad, w.grad

    check_same(run)


def test_view_then_base_saved_and_modified_errors():
    def run(m):
        x, = leaves(m, A)
        base = x * 2
        y = base.exp()  # saves its output
        y[0].zero_()
        y.sum().backward()

    check_same_error(run, "modified by an inplace operation")


def test_in_place_op_on_view_of_tensor_not_requiring_grad():
    def run(m):
        w, = leaves(m, V)
        base = m.zeros(3, 4, dtype=m.float64)
        base[1].add_(w)  # base now requires grad through CopySlices
        base[2].copy_(w * 2)
        assert base.requires_grad
        base.backward(m.tensor(G))
        return base, w.grad

    check_same(run)


# ------------------------------------------------------------------ other in-place ops
def test_masked_fill_in_place():
    def run(m):
        x, = leaves(m, A)
        y = x.exp()
        y = y * 1.0
        y.masked_fill_(m.tensor(A > 0.3), -1.0)
        y.backward(m.tensor(G))
        return y, x.grad

    check_same(run)


def test_index_add_in_place():
    def run(m):
        x, src = leaves(m, A, rand(3, 2, seed=5))
        y = x * 2
        y.index_add_(1, m.tensor([3, 0]), src, alpha=1.5)
        (y * y).backward(m.tensor(G))
        return y, x.grad, src.grad

    check_same(run)


def test_scatter_in_place():
    def run(m):
        x, src = leaves(m, A, B[:, :2])
        y = x * 2
        y.scatter_(1, m.tensor([[0, 2], [1, 3], [2, 0]]), src)
        (y * y).backward(m.tensor(G))
        return y, x.grad, src.grad

    check_same(run)


def test_scatter_add_in_place():
    def run(m):
        x, src = leaves(m, A, B[:, :2])
        y = x.sin()
        y.scatter_add_(1, m.tensor([[0, 0], [1, 3], [2, 2]]), src)
        y.backward(m.tensor(G))
        return y, x.grad, src.grad

    check_same(run)


def test_zero_and_fill_in_place():
    def run(m):
        x, = leaves(m, A)
        y = x * 3
        y[0].zero_()
        y[1].fill_(2.0)
        (y * x).backward(m.tensor(G))
        return y, x.grad

    check_same(run)


# ------------------------------------------------------------------ dtype and shape errors
def test_int_tensor_add_float_in_place_errors():
    check_same_error(lambda m: m.tensor([1, 2]).add_(1.5), "can't be cast")
    check_same_error(lambda m: m.tensor([1, 2]).mul_(m.tensor([0.5, 2.0])), "can't be cast")
    check_same_error(lambda m: m.tensor([True, False]).add_(m.tensor([1, 2])), "can't be cast")


def test_in_place_float32_with_float64_operand_keeps_dtype():
    def run(m):
        x, = leaves(m, A.astype("float32"))
        y = x * 1.0
        y.mul_(m.tensor(V))  # float64 operand: result stays float32
        assert y.dtype == m.float32
        y.backward(m.tensor(G.astype("float32")))
        return y, x.grad

    check_same(run, rtol=1e-6, atol=1e-6)


def test_in_place_shape_errors():
    check_same_error(lambda m: m.zeros(3).add_(m.ones(2, 3)), "shape", "broadcast")
    check_same_error(lambda m: m.zeros(3, 1).mul_(m.ones(3, 4)), "shape")
    check_same_error(lambda m: m.zeros(3).copy_(m.ones(4)), "broadcast")


def test_in_place_on_expanded_tensor_errors():
    check_same_error(lambda m: m.zeros(1, 3).expand(2, 3).add_(1), "memory location")


def test_in_place_values_match_out_of_place():
    for m in LIBS:
        x = m.tensor(A)
        np.testing.assert_allclose(x.clone().sigmoid_().numpy(), x.sigmoid().numpy())
        np.testing.assert_allclose(x.clone().clamp_(min=0).numpy(), x.clamp(min=0).numpy())
    with pytest.raises(RuntimeError):
        leaves(LIBS[0], A)[0].relu_()


def test_diagonal_is_a_writable_view_like_torch() -> None:
    import numpy as np
    import torch

    import ember

    for lib in (ember, torch):
        x = lib.arange(12.0).reshape(3, 4)
        x.diagonal(1).fill_(-1)
        if lib is ember:
            ember_values = x.numpy().copy()
        else:
            np.testing.assert_array_equal(ember_values, x.numpy())
    w = np.random.default_rng(0).standard_normal((2, 3, 4))
    grads = []
    for lib in (ember, torch):
        a = lib.tensor(w, requires_grad=True)
        b = a * 1
        b.diagonal(-1, 1, 2).mul_(3)
        (b * lib.tensor(w)).sum().backward()
        grads.append(a.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)


@pytest.mark.parametrize("write", ["zero_", "fill_", "fill_tensor", "copy_", "copy_grad_src"])
def test_overwriting_in_place_keeps_the_tensor_in_the_graph(write):
    # torch: y.zero_() / fill_ / copy_ leave y requiring grad (ZeroBackward0, FillBackward2,
    # CopyBackwards), its old history gets a zero gradient, and a src that requires grad its own
    results = []
    for lib in (torch, ember):
        a = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        src = lib.tensor([0.5, 0.25, 2.0], requires_grad=True)
        y = a * 2
        if write == "zero_":
            y.zero_()
        elif write == "fill_":
            y.fill_(5.0)
        elif write == "fill_tensor":
            y.fill_(lib.tensor(4.0))
        elif write == "copy_":
            y.copy_(lib.ones(3))
        else:
            y.copy_(src * 3)
        (y * a).sum().backward()
        results.append((y.requires_grad, y.grad_fn.name(), y.detach().numpy(), a.grad.numpy(),
                        None if src.grad is None else src.grad.numpy()))
    (t_req, t_name, t_y, t_ga, t_gs), (e_req, e_name, e_y, e_ga, e_gs) = results
    assert (e_req, e_name) == (t_req, t_name)
    np.testing.assert_allclose(e_y, t_y)
    np.testing.assert_allclose(e_ga, t_ga)
    assert (e_gs is None) == (t_gs is None)
    if t_gs is not None:
        np.testing.assert_allclose(e_gs, t_gs)
