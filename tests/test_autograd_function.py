"""Custom autograd.Function: the same Function written for Ember and for torch must behave alike."""

from __future__ import annotations

import pytest

import ember
from autograd_helpers import LIBS, check_same, check_same_error, leaves, rand

A = rand(3, 4)
B = rand(3, 4, seed=1)
V = rand(4, seed=2)


def scaled_exp(m):
    """y = exp(x) * k, with k a ctx attribute and exp(x) saved (an output)."""

    class ScaledExp(m.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            y = x.exp()
            ctx.save_for_backward(y)
            ctx.k = k
            return y * k

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            assert ctx.needs_input_grad == (True, False)
            return g * y * ctx.k, None

    return ScaledExp


def test_save_for_backward_and_ctx_attributes():
    def run(m):
        x, = leaves(m, A)
        y = scaled_exp(m).apply(x, 3.0)
        assert y.grad_fn.name() == "ScaledExpBackward"
        assert not y.is_leaf and y.requires_grad
        y.backward(m.tensor(B))
        return y, x.grad

    check_same(run)


def test_needs_input_grad():
    for m in LIBS:
        seen = []

        class Mul(m.autograd.Function):
            @staticmethod
            def forward(ctx, a, b):
                ctx.save_for_backward(a, b)
                return a * b

            @staticmethod
            def backward(ctx, g):
                seen.append(ctx.needs_input_grad)
                a, b = ctx.saved_tensors
                return (g * b if ctx.needs_input_grad[0] else None,
                        g * a if ctx.needs_input_grad[1] else None)

        x, w = leaves(m, A, V)
        c = m.tensor(V)
        Mul.apply(x, c).sum().backward()
        Mul.apply(c, w).sum().backward()
        assert seen == [(True, False), (False, True)]
        assert w.grad.tolist() == pytest.approx(V)


def test_forward_runs_without_recording():
    for m in LIBS:
        class Probe(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                inner = x * 2
                assert not inner.requires_grad and not m.is_grad_enabled()
                return inner

            @staticmethod
            def backward(ctx, g):
                return g * 2

        x, = leaves(m, A)
        assert Probe.apply(x).requires_grad
        assert not Probe.apply(m.tensor(A)).requires_grad
        with m.no_grad():
            assert not Probe.apply(x).requires_grad


def split_fn(m, materialize=True):
    """Two outputs (exp and sin); the backward reports which gradients it received."""
    received = []

    class Split(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(materialize)
            ctx.save_for_backward(x)
            return x.exp(), x.sin()

        @staticmethod
        def backward(ctx, g_exp, g_sin):
            (x,) = ctx.saved_tensors
            received.append((g_exp is None, g_sin is None))
            out = 0
            if g_exp is not None:
                out = out + g_exp * x.exp()
            if g_sin is not None:
                out = out + g_sin * x.cos()
            return out

    return Split, received


def test_multiple_outputs_one_unused_gets_zeros():
    def run(m):
        Split, received = split_fn(m)
        x, = leaves(m, A)
        e, s = Split.apply(x)
        assert e.grad_fn is s.grad_fn and e.output_nr == 0 and s.output_nr == 1
        (s * 2).sum().backward()
        return x.grad, received

    check_same(run)


def test_multiple_outputs_both_used():
    def run(m):
        Split, _ = split_fn(m)
        x, = leaves(m, A)
        e, s = Split.apply(x)
        (e * s).sum().backward()
        return x.grad

    check_same(run)


def test_set_materialize_grads_false_passes_none():
    def run(m):
        Split, received = split_fn(m, materialize=False)
        x, = leaves(m, A)
        e, s = Split.apply(x)
        e.sum().backward()
        return x.grad, received

    check_same(run)


def test_mark_non_differentiable():
    def run(m):
        class SortLike(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                doubled = x * 2
                mask = x > 0
                ctx.mark_non_differentiable(mask)
                ctx.save_for_backward(mask)
                return doubled, mask

            @staticmethod
            def backward(ctx, g, g_mask):
                (mask,) = ctx.saved_tensors
                return g * 2 * mask

        x, = leaves(m, A)
        doubled, mask = SortLike.apply(x)
        assert not mask.requires_grad and doubled.requires_grad
        doubled.sum().backward()
        return x.grad, mask

    check_same(run)


def test_mark_non_differentiable_float_output():
    def run(m):
        class Pair(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                a, b = x * 3, x.floor()
                ctx.mark_non_differentiable(b)
                return a, b

            @staticmethod
            def backward(ctx, ga, gb):
                return ga * 3

        x, = leaves(m, A)
        a, b = Pair.apply(x)
        assert not b.requires_grad and b.grad_fn is None
        (a + b).sum().backward()
        return x.grad

    check_same(run)


def test_returning_none_gradients_and_non_tensor_args():
    def run(m):
        class Affine(m.autograd.Function):
            @staticmethod
            def forward(ctx, x, w, scale, name):
                assert name == "tag"
                ctx.save_for_backward(x, w)
                ctx.scale = scale
                return x * w * scale

            @staticmethod
            def backward(ctx, g):
                x, w = ctx.saved_tensors
                return None, (g * x * ctx.scale).sum(0), None, None

        x, w = leaves(m, A, V)
        Affine.apply(x, w, 2.0, "tag").sum().backward()
        return x.grad, w.grad

    check_same(run)


def test_broadcastable_gradient_is_summed_to_the_input_shape():
    def run(m):
        class AddRow(m.autograd.Function):
            @staticmethod
            def forward(ctx, x, row):
                return x + row

            @staticmethod
            def backward(ctx, g):
                return g, g  # g has x's shape; torch reduces it to row's shape

        x, row = leaves(m, A, V)
        AddRow.apply(x, row).backward(m.tensor(B))
        return x.grad, row.grad

    check_same(run)


def test_wrong_number_of_gradients_errors():
    def run(m):
        class Bad(m.autograd.Function):
            @staticmethod
            def forward(ctx, x, w):
                return x * w

            @staticmethod
            def backward(ctx, g):
                return g

        x, w = leaves(m, A, V)
        Bad.apply(x, w).sum().backward()

    check_same_error(run, "incorrect number of gradients", "expected 2", "got 1")

    def too_many(m):
        class Bad(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g, g

        Bad.apply(leaves(m, A)[0]).sum().backward()

    check_same_error(too_many, "incorrect number of gradients", "expected 1", "got 2")


def _returning(m, grads):
    class Fn(m.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            return x * k

        @staticmethod
        def backward(ctx, g):
            return grads(g)

    return Fn


def test_gradient_for_a_non_tensor_input_errors():
    check_same_error(lambda m: _returning(m, lambda g: (g, g)).apply(
        leaves(m, A)[0], 2.0).sum().backward(), "different than None", "position 2")
    check_same_error(lambda m: _returning(m, lambda g: (2.0, None)).apply(
        leaves(m, A)[0], 2.0).sum().backward(), "float")


def test_gradient_of_another_dtype_is_cast_to_the_input_dtype():
    def run(m):
        x, = leaves(m, A.astype("float32"))
        _returning(m, lambda g: (g.double() * 3, None)).apply(x, 2.0).sum().backward()
        assert x.grad.dtype == m.float32
        return x.grad

    check_same(run)


def test_gradient_shape_mismatch_errors():
    def run(m):
        class Bad(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g.sum(1)  # (3,) for a (3, 4) input

        Bad.apply(leaves(m, A)[0]).sum().backward()

    check_same_error(run, "invalid gradient", "[3]", "[3, 4]")


def test_double_backward_through_function():
    def run(m):
        class Cube(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x**3

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return 3 * g * x**2  # differentiable ops: double backward works

        x, = leaves(m, A)
        y = Cube.apply(x).sin()
        gx, = m.autograd.grad(y.sum(), x, create_graph=True)
        ggx, = m.autograd.grad((gx * gx).sum(), x)
        return gx, ggx

    check_same(run)


def test_once_differentiable():
    def make(m):
        class Square(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            @m.autograd.function.once_differentiable
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return 2 * g * x

        return Square

    def first(m):
        x, = leaves(m, A)
        make(m).apply(x).sum().backward()
        return x.grad

    check_same(first)

    def twice(m):
        x, = leaves(m, A)
        g, = m.autograd.grad(make(m).apply(x).sum(), x, create_graph=True)
        m.autograd.grad(g.sum(), x)

    check_same_error(twice, "does not require grad")  # the incoming gradient did not either

    def twice_with_grad_output_requiring_grad(m):
        x, = leaves(m, A)
        g, = m.autograd.grad((make(m).apply(x) ** 2).sum(), x, create_graph=True)
        assert g.requires_grad
        g.sum().backward()

    check_same_error(twice_with_grad_output_requiring_grad, "differentiate twice",
                     "once_differentiable")


def test_setup_context_style():
    def run(m):
        class LinearFn(m.autograd.Function):
            @staticmethod
            def forward(x, w, bias):
                return x @ w.t() + bias

            @staticmethod
            def setup_context(ctx, inputs, output):
                x, w, _ = inputs
                ctx.save_for_backward(x, w)
                ctx.out_shape = tuple(output.shape)

            @staticmethod
            def backward(ctx, g):
                x, w = ctx.saved_tensors
                assert tuple(g.shape) == ctx.out_shape
                return g @ w, g.t() @ x, g.sum(0)

        x, w, b = leaves(m, A, B, V[:3])
        y = LinearFn.apply(x, w, b)
        y.backward(m.tensor(rand(3, 3, seed=7)))
        return y, x.grad, w.grad, b.grad

    check_same(run)


def test_saved_input_modified_in_place_errors():
    def run(m):
        x, = leaves(m, A)
        h = x * 1.0
        y = scaled_exp(m).apply(h, 2.0)
        y.mul_(2)  # y itself was not saved (exp(h) was)
        z = scaled_exp(m).apply(h, 1.0) * 1.0
        h.add_(1)  # nor was h
        (y.sum() + z.sum()).backward()
        return x.grad

    check_same(run)

    def modifies_saved(m):
        class Keep(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * 2

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return g * 2

        x, = leaves(m, A)
        h = x * 1.0
        y = Keep.apply(h)
        h.add_(1)
        y.sum().backward()

    check_same_error(modifies_saved, "modified by an inplace operation")


def test_function_returning_its_input():
    def run(m):
        class Identity(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x

            @staticmethod
            def backward(ctx, g):
                return g * 5

        x, = leaves(m, A)
        y = Identity.apply(x)
        assert y is not x and not y.is_leaf
        y.sum().backward()
        return x.grad

    check_same(run)


def test_mark_dirty_in_place_function():
    def run(m):
        class AddOneInPlace(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                x.add_(1)
                ctx.mark_dirty(x)
                return x

            @staticmethod
            def backward(ctx, g):
                return g * 1

        x, = leaves(m, A)
        h = x * 2
        out = AddOneInPlace.apply(h)
        assert out is h and h.grad_fn.name() == "AddOneInPlaceBackward"
        (h * h).sum().backward()
        return h, x.grad

    check_same(run)


def test_function_with_graph_freed_errors_on_second_backward():
    def run(m):
        x, = leaves(m, A)
        y = scaled_exp(m).apply(x, 2.0).sum()
        y.backward()
        y.backward()

    check_same_error(run, "second time")


def test_gradcheck_on_custom_function():
    Fn = scaled_exp(ember)
    x = ember.tensor(rand(2, 3), requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: Fn.apply(t, 1.5), (x,))


def test_reentrant_backward_checkpoint_style():
    def run(m):
        class Checkpoint(m.autograd.Function):
            @staticmethod
            def forward(ctx, x, w):
                ctx.save_for_backward(x, w)
                return (x @ w.t()).tanh()

            @staticmethod
            def backward(ctx, g):
                x, w = ctx.saved_tensors
                with m.enable_grad():  # recompute the forward, then differentiate it
                    x2, w2 = x.detach().requires_grad_(), w.detach().requires_grad_()
                    out = (x2 @ w2.t()).tanh()
                return m.autograd.grad(out, (x2, w2), g)

        x, w = leaves(m, A, B[:2])
        y = Checkpoint.apply(x.sin(), w)
        (y * y).sum().backward()
        return x.grad, w.grad

    check_same(run)
