"""Autograd semantics against torch: gradient accumulation, backward() and its errors,
retain_graph, backward(inputs=...), tensor and node hooks, grad_fn names."""

from __future__ import annotations

import warnings

import numpy as np

from autograd_helpers import LIBS, check_same, check_same_error, leaves, rand

A = rand(3, 4)
B = rand(3, 4, seed=1)
V = rand(4)


# ------------------------------------------------------------------ accumulation and backward()
def test_grad_accumulates_over_two_backward_calls():
    def run(m):
        x, w = leaves(m, A, V)
        (x * w).sum().backward()
        (x.exp() * w).sum().backward()
        return x.grad, w.grad

    check_same(run)


def test_backward_with_gradient_for_non_scalar():
    def run(m):
        x, = leaves(m, A)
        y = x.sin() * 3
        y.backward(gradient=m.tensor(B))
        return x.grad

    check_same(run)


def test_backward_gradient_of_other_dtype_is_cast():
    def run(m):
        x, = leaves(m, A.astype("float32"))
        (x * x).backward(m.tensor(B))  # float64 gradient for a float32 output
        return x.grad

    check_same(run, rtol=1e-6, atol=1e-7)


def test_autograd_backward_of_several_outputs():
    def run(m):
        x, = leaves(m, A)
        y1, y2 = x.exp(), x.sum(0)
        m.autograd.backward([y1, y2], [m.tensor(B), m.tensor(V[:4])])
        return x.grad

    check_same(run)


def test_grads_never_alias_each_other_or_the_caller_s_tensors():
    def run(m):
        x, w = leaves(m, A, A)
        (x + w).sum().backward()  # both get the very same upstream gradient
        x.grad.add_(5)
        g = m.tensor(B)
        v, = leaves(m, B)
        v.backward(g)
        g.add_(1)
        h = v * 1.0
        h.retain_grad()
        h.sum().backward()
        h.grad.mul_(100)
        return w.grad, v.grad

    check_same(run)


def test_second_backward_accumulates_into_the_same_grad_tensor():
    for m in LIBS:
        x, = leaves(m, A)
        (x * 2).sum().backward()
        first = x.grad
        (x * 3).sum().backward()
        assert x.grad is first
        np.testing.assert_allclose(first.numpy(), np.full(A.shape, 5.0))


def test_zeroing_grad_and_setting_it_to_none():
    for m in LIBS:
        x, = leaves(m, A)
        (x * 2).sum().backward()
        x.grad.zero_()
        (x * 3).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), np.full(A.shape, 3.0))
        x.grad = None
        (x * 5).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), np.full(A.shape, 5.0))


def test_error_non_scalar_without_gradient():
    check_same_error(lambda m: leaves(m, A)[0].exp().backward(), "scalar")


def test_error_gradient_of_wrong_shape():
    check_same_error(lambda m: leaves(m, A)[0].exp().backward(m.ones(4, 3, dtype=m.float64)),
                     "shape")


def test_error_second_backward_through_freed_graph():
    def run(m):
        x, = leaves(m, A)
        y = (x.exp() * x).sum()  # Mul and Exp save tensors
        y.backward()
        y.backward()

    err = check_same_error(run, "second time", "retain_graph=True")
    assert "Backward" in str(err)  # names the node whose saved values are gone


def test_second_backward_is_fine_when_nothing_was_saved():
    def run(m):
        x, = leaves(m, A)
        y = (x + 1).sum(0).sum() - x.t().reshape(12).sum()  # these save no tensors in torch
        y.backward()
        y.backward()
        return x.grad

    check_same(run)


def test_error_int_tensor_requires_grad():
    check_same_error(lambda m: m.tensor([1, 2]).requires_grad_(), "floating point")
    check_same_error(lambda m: m.tensor([1, 2], requires_grad=True), "floating point")
    check_same_error(lambda m: m.arange(3).requires_grad_(True), "floating point")


def test_error_backward_of_tensor_without_grad():
    check_same_error(lambda m: m.tensor(A).sum().backward(), "does not require grad")

    def under_no_grad(m):
        x, = leaves(m, A)
        with m.no_grad():
            y = (x * 2).sum()
        y.backward()

    check_same_error(under_no_grad, "does not require grad")


def test_integer_results_do_not_require_grad():
    for m in LIBS:
        x, = leaves(m, A)
        assert not x.argmax().requires_grad
        assert not (x > 0).requires_grad
        assert (x > 0).grad_fn is None
        assert x.long().requires_grad is False


# ------------------------------------------------------------------ retain_graph and inputs=
def test_retain_graph_allows_second_backward():
    def run(m):
        x, = leaves(m, A)
        y = (x.exp() * x).sum()
        y.backward(retain_graph=True)
        first = x.grad.clone()
        y.backward()
        return first, x.grad

    check_same(run)


def test_backward_inputs_fills_only_those():
    def run(m):
        x, w, b = leaves(m, A, V, V[::-1])
        h = (x * w + b).tanh()
        h2 = h * 2
        h.retain_grad()
        h2.sum().backward(inputs=[w, h])
        return x.grad, w.grad, b.grad, h.grad

    check_same(run)


def test_backward_inputs_with_a_non_leaf_only():
    def run(m):
        x, = leaves(m, A)
        h = x.exp()
        (h * h).sum().backward(inputs=[h])
        return x.grad, h.grad

    check_same(run)


def test_backward_empty_inputs_error():
    check_same_error(lambda m: leaves(m, A)[0].sum().backward(inputs=[]), "inputs", "empty")


# ------------------------------------------------------------------ tensor hooks
def test_hook_on_leaf_modifies_gradient():
    def run(m):
        x, = leaves(m, A)
        seen = []
        x.register_hook(lambda g: seen.append(g.clone()))
        x.register_hook(lambda g: g * 10)
        (x * x).sum().backward()
        return seen[0], x.grad

    check_same(run)


def test_hook_on_non_leaf_modifies_upstream_gradient():
    def run(m):
        x, = leaves(m, A)
        h = x.sin()
        h.register_hook(lambda g: g * 2 + 1)
        (h * h).sum().backward()
        return x.grad

    check_same(run)


def test_hook_handle_remove():
    def run(m):
        x, = leaves(m, A)
        h = x * 3
        handle = h.register_hook(lambda g: g * 100)
        handle.remove()
        h.sum().backward()
        return x.grad

    check_same(run)


def test_hook_runs_once_with_the_summed_gradient():
    def run(m):
        x, = leaves(m, A)
        h = x * 2
        seen_h, seen_x = [], []
        h.register_hook(lambda g: seen_h.append(g.clone()))
        x.register_hook(lambda g: seen_x.append(g.clone()))
        (h * h + h + x).sum().backward()  # h and x both reach the loss by several paths
        return seen_h, seen_x

    check_same(run)


def test_backward_on_a_leaf_and_grad_of_output_wrt_itself():
    def run(m):
        x, = leaves(m, A)
        x.backward(m.tensor(B))
        y = x.exp()
        gy, = m.autograd.grad(y, y, m.tensor(B))
        return x.grad, gy

    check_same(run)


def test_hooks_run_in_registration_order():
    for m in LIBS:
        x, = leaves(m, A)
        h = x * 1.5
        order = []
        h.register_hook(lambda g: order.append("first") or g + 1)
        h.register_hook(lambda g: order.append("second") or g * 2)
        h.sum().backward()
        assert order == ["first", "second"]
        np.testing.assert_allclose(x.grad.numpy(), np.full(A.shape, 6.0))


def test_retain_grad_sees_hook_modified_gradient():
    def run(m):
        x, = leaves(m, A)
        h = x.exp()
        h.retain_grad()  # registered before the hook, but torch runs it last
        h.register_hook(lambda g: g * 3)
        (h * 2).sum().backward()
        return h.grad, x.grad

    check_same(run)


def test_retain_grad_on_non_leaves():
    def run(m):
        x, = leaves(m, A)
        h = x * 2
        z = h.tanh()
        h.retain_grad()
        z.retain_grad()
        z.sum().backward()
        assert h.retains_grad and not x.retains_grad and not h.is_leaf
        return h.grad, z.grad, x.grad

    check_same(run)


def test_retain_grad_accumulates_over_backward_calls():
    def run(m):
        x, = leaves(m, A)
        h = x + 2
        h.retain_grad()
        (h * 3).sum().backward()
        (h * 5).sum().backward()
        return h.grad, x.grad

    check_same(run)


def test_grad_of_non_leaf_without_retain_grad_is_none():
    for m in LIBS:
        x, = leaves(m, A)
        h = x * 2
        h.sum().backward()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns about reading a non-leaf's .grad
            assert h.grad is None
        assert x.grad is not None


def test_hook_on_tensor_without_grad_errors():
    check_same_error(lambda m: m.tensor(A).register_hook(lambda g: g), "require")


def test_hook_changing_shape_or_dtype_errors():
    def non_leaf(m, hook):
        x, = leaves(m, A)
        h = x * 1.0
        h.register_hook(hook)
        h.sum().backward()

    def leaf(m, hook):
        x, = leaves(m, A)
        x.register_hook(hook)
        (x * 2).sum().backward()

    for run in (non_leaf, leaf):
        check_same_error(lambda m: run(m, lambda g: g.sum(0)), "hook", "size")
        check_same_error(lambda m: run(m, lambda g: g.float()), "hook", "type")


def test_node_hooks_see_and_replace_gradients():
    def run(m):
        x, = leaves(m, A)
        y = x.exp()
        seen = []
        y.grad_fn.register_hook(lambda gin, gout: seen.append((gin[0].clone(), gout[0].clone())))
        (y * 2).sum().backward()
        return seen

    check_same(run)

    def replacing(m):
        x, w = leaves(m, A, V)
        y = (x * w).sin()
        y.grad_fn.register_prehook(lambda gout: (gout[0] * 3,))
        mul = y.grad_fn.next_functions[0][0]
        mul.register_hook(lambda gin, gout: (gin[0] + 1, None))  # drops w's gradient
        handle = mul.register_hook(lambda gin, gout: (gin[0] * 100, gin[1]))
        handle.remove()
        y.backward(m.tensor(B))
        return x.grad, w.grad

    check_same(replacing)


def test_grad_fn_names_and_next_functions():
    for m in LIBS:
        x, w = leaves(m, A, V)
        y = (x * w).sum()
        assert y.grad_fn.name() == "SumBackward0"
        mul = y.grad_fn.next_functions[0][0]
        assert mul.name() == "MulBackward0"
        acc = mul.next_functions[0][0]
        assert acc.variable is x
        assert acc.name() == "torch::autograd::AccumulateGrad"
        assert acc.next_functions == ()
        assert x.grad_fn is None and x.is_leaf and not y.is_leaf
        assert m.tensor(A).is_leaf  # tensors that do not require grad are leaves too

    # names of common nodes (structural ops such as view/matmul/indexing are named differently
    # in torch, after its ATen kernels, and are not compared)
    cases = {
        "AddBackward0": lambda m, x: x + 1, "SubBackward0": lambda m, x: x - x,
        "DivBackward0": lambda m, x: x / 2, "NegBackward0": lambda m, x: -x,
        "PowBackward0": lambda m, x: x**2, "ExpBackward0": lambda m, x: x.exp(),
        "LogBackward0": lambda m, x: (x * x + 1).log(), "MeanBackward0": lambda m, x: x.mean(),
        "ReluBackward0": lambda m, x: x.relu(), "SigmoidBackward0": lambda m, x: x.sigmoid(),
        "TanhBackward0": lambda m, x: x.tanh(), "SoftmaxBackward0": lambda m, x: x.softmax(-1),
        "LogSoftmaxBackward0": lambda m, x: x.log_softmax(-1),
        "CloneBackward0": lambda m, x: x.clone(), "CatBackward0": lambda m, x: m.cat([x, x]),
        "StackBackward0": lambda m, x: m.stack([x, x]),
        "SqrtBackward0": lambda m, x: (x * x).sqrt(),
        "WhereBackward0": lambda m, x: m.where(x > 0, x, x * 2),
        "PermuteBackward0": lambda m, x: x.permute(1, 0),
    }
    for expected, fn in cases.items():
        for m in LIBS:
            assert fn(m, leaves(m, A)[0]).grad_fn.name() == expected, (m.__name__, expected)


def test_leaf_grad_takes_the_leafs_layout_as_torch():
    """torch's layout contract: a non-contiguous incoming gradient is stored with the leaf's
    strides (x.grad.view(-1) then works)."""
    import torch

    import ember

    results = []
    for lib in (torch, ember):
        x = lib.randn(3, 4, requires_grad=True)
        (x.t() * x.t().contiguous()).sum().backward()
        w = lib.randn(2, 3, 4, 5).to(memory_format=lib.channels_last).requires_grad_()
        (w * 2).sum().backward()
        y = lib.randn(4, 3, requires_grad=True)
        y.t().sum().backward()
        results.append((x.grad.stride(), w.grad.stride(), y.grad.stride(),
                        tuple(x.grad.view(-1).shape)))
    assert results[1] == results[0]


def test_autograd_grad_results_take_the_inputs_layout_as_torch():
    """WGAN-GP's gradient penalty: autograd.grad of a conv's input, then gradients.view(B, -1),
    with and without create_graph; torch's conv kernels return the input's layout."""
    import torch

    import ember

    results = []
    for lib in (torch, ember):
        lib.manual_seed(0)
        x = lib.rand(2, 3, 6, 6, requires_grad=True)
        xc = lib.rand(2, 3, 6, 6).to(memory_format=lib.channels_last).requires_grad_()
        strides = []
        for conv in (lib.nn.Conv2d(3, 4, 4, 2, 1), lib.nn.Conv2d(3, 3, 3, groups=3),
                     lib.nn.ConvTranspose2d(3, 2, 4, 2, 1)):
            for inp in (x, xc):
                for create_graph in (False, True):
                    (g,) = lib.autograd.grad(conv(inp).sum(), inp, create_graph=create_graph,
                                             only_inputs=True)
                    if inp is x:
                        g.view(2, -1)
                    strides.append(g.stride())
        results.append(strides)
    assert results[1] == results[0]


def test_gradient_parts_summed_in_place_never_touch_arrays_others_hold():
    """The engine adds a node's gradient parts in place only into arrays nobody else holds:
    hooks that keep a part, tensors used twice in one op, split pieces and retained grads must
    all see torch's values."""
    import torch

    import ember

    def run(lib):
        x = lib.arange(1.0, 13.0).reshape(3, 4).requires_grad_()
        seen = []
        y = x * 1
        y.register_hook(lambda g: seen.append(g))
        a, b = y.split(2, dim=1)
        z = y * 1
        z.retain_grad()
        w = z + z  # one op, the same gradient object for both inputs
        out = (a * 2).sum() + (b * 3).sum() + (w * y).sum() + (y + y).sum()
        out.backward()
        return [x.grad, z.grad] + seen

    got, want = run(ember), run(torch)
    assert len(got) == len(want)
    for g, t in zip(got, want, strict=True):
        np.testing.assert_array_equal(g.detach().numpy(), t.detach().numpy())
