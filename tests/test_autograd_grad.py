"""ember.autograd.grad: unused inputs, materialize_grads, and higher-order derivatives
(create_graph=True) compared with torch; gradgradcheck over a selection of ops."""

from __future__ import annotations

import pytest

import ember
from autograd_helpers import check_same, check_same_error, leaves, rand
from conformance import _flatten_outputs, as_input, make_arrays
from test_op_table import GRADCHECK_CASES

A = rand(3, 4)
B = rand(3, 4, seed=1)
V = rand(4, seed=2)


# ------------------------------------------------------------------ autograd.grad basics
def test_grad_returns_gradients_without_touching_dot_grad():
    def run(m):
        x, w = leaves(m, A, V)
        y = (x * w).sin().sum()
        gx, gw = m.autograd.grad(y, [x, w])
        assert x.grad is None and w.grad is None
        assert not gx.requires_grad
        return gx, gw

    check_same(run)


def test_grad_with_grad_outputs_and_several_outputs():
    def run(m):
        x, = leaves(m, A)
        y1, y2 = x.exp(), (x * x).sum(1)
        return m.autograd.grad([y1, y2], x, grad_outputs=[m.tensor(B), m.tensor(V[:3])])

    check_same(run)


def test_grad_of_non_leaf_input():
    def run(m):
        x, = leaves(m, A)
        h = x.tanh()
        y = (h * h * 3).sum()
        return m.autograd.grad(y, [h, x])

    check_same(run)


def test_grad_unused_input_errors_unless_allowed():
    def run(m):
        x, z = leaves(m, A, B)
        return m.autograd.grad((x * 2).sum(), [x, z])

    check_same_error(run, "allow_unused")

    def allowed(m):
        x, z = leaves(m, A, B)
        return m.autograd.grad((x * 2).sum(), [x, z], allow_unused=True)

    check_same(allowed)  # torch gives None for z


def test_grad_materialize_grads():
    def run(m):
        x, z = leaves(m, A, B)
        gx, gz = m.autograd.grad((x * 2).sum(), [x, z], materialize_grads=True)
        assert gz is not None
        return gx, gz

    check_same(run)
    check_same_error(
        lambda m: m.autograd.grad((leaves(m, A)[0] * 2).sum(), leaves(m, A), allow_unused=False,
                                  materialize_grads=True), "allow_unused")


def test_grad_input_not_requiring_grad_errors():
    def run(m):
        x, = leaves(m, A)
        c = m.tensor(B)
        m.autograd.grad((x * c).sum(), [c])

    check_same_error(run, "does not require grad")


def test_grad_frees_graph_unless_retained():
    def run(m):
        x, = leaves(m, A)
        y = (x.exp() * x).sum()
        m.autograd.grad(y, x)
        m.autograd.grad(y, x)

    check_same_error(run, "second time")

    def retained(m):
        x, = leaves(m, A)
        y = (x.exp() * x).sum()
        g1, = m.autograd.grad(y, x, retain_graph=True)
        g2, = m.autograd.grad(y, x)
        return g1, g2

    check_same(retained)


def test_grad_does_not_run_hooks_of_unrelated_leaves():
    def run(m):
        x, w = leaves(m, A, V)
        called = []
        w.register_hook(lambda g: called.append("w"))
        x.register_hook(lambda g: called.append("x") or g * 2)
        g, = m.autograd.grad((x * w).sum(), x)
        return g, called

    check_same(run)


# ------------------------------------------------------------------ higher-order derivatives
def second_derivative(f):
    """Elementwise f: returns f(x), f'(x), f''(x) computed by double backward."""

    def run(m):
        x, = leaves(m, A)
        y = f(m, x)
        g, = m.autograd.grad(y.sum(), x, create_graph=True)
        assert g.requires_grad
        gg, = m.autograd.grad(g.sum(), x)
        return y, g, gg

    return run


ELEMENTWISE = {
    "cube": lambda m, x: x**3,
    "cube_by_mul": lambda m, x: x * x * x,
    "sin": lambda m, x: x.sin(),
    "cos": lambda m, x: x.cos(),
    "exp": lambda m, x: x.exp(),
    "tanh": lambda m, x: x.tanh(),
    "sigmoid": lambda m, x: x.sigmoid(),
    "log": lambda m, x: (x + 2).log(),
    "sqrt": lambda m, x: (x + 2).sqrt(),
    "rsqrt": lambda m, x: (x + 2).rsqrt(),
    "reciprocal": lambda m, x: 1 / (x + 2),
    "div": lambda m, x: x / (x * x + 1),
    "pow_tensor_exponent": lambda m, x: (x + 2) ** x,
    "softplus": lambda m, x: x.exp().log1p(),
    "gelu": lambda m, x: x * 0.5 * (1 + (x / 2**0.5).erf()),
    "silu": lambda m, x: x * x.sigmoid(),
    "elu": lambda m, x: m.where(x > 0, x, x.exp() - 1),
    "atan": lambda m, x: x.atan(),
    "erf": lambda m, x: x.erf(),
    "log1p": lambda m, x: (x + 0.5).log1p(),
    "abs_times_x": lambda m, x: x.abs() * x,
    "relu_squared": lambda m, x: x.relu() ** 2,
}


@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_second_derivative_elementwise(name):
    check_same(second_derivative(ELEMENTWISE[name]), rtol=1e-7, atol=1e-9)


def layer_norm(x, eps=1e-5):
    mean = x.mean(-1, keepdim=True)
    return (x - mean) / (x.var(-1, keepdim=True, correction=0) + eps).sqrt()


ROWWISE = {
    "softmax": lambda m, x: x.softmax(-1) * m.tensor(B),
    "softmax_dim0": lambda m, x: x.softmax(0) ** 2,
    "log_softmax": lambda m, x: x.log_softmax(-1) * m.tensor(B),
    "logsumexp": lambda m, x: x.logsumexp(1) ** 2,
    "matmul": lambda m, x: (x @ x.t()).tanh(),
    "norm": lambda m, x: x.norm(dim=1) ** 3,
    "var": lambda m, x: x.var(1) * x.sum(1),
    "std": lambda m, x: x.std(0) ** 3,
    "mean_sq": lambda m, x: (x - x.mean(1, keepdim=True)) ** 2,
    "prod": lambda m, x: x.prod(1),
    "amax": lambda m, x: x.amax(1) * x.sum(1),
    "cumsum": lambda m, x: x.cumsum(1).sin(),
    "cross_entropy": lambda m, x: -x.log_softmax(1).gather(1, m.tensor([[0], [3], [1]])).mean(),
    "mse": lambda m, x: ((x.tanh() - m.tensor(B)) ** 2).mean(),
    "layer_norm": lambda m, x: layer_norm(x) * m.tensor(B),
}


@pytest.mark.parametrize("name", list(ROWWISE))
def test_second_derivative_non_elementwise(name):
    check_same(second_derivative(ROWWISE[name]), rtol=1e-7, atol=1e-9)


def mlp(m, x, w1, b1, w2):
    return ((x @ w1 + b1).tanh() @ w2).sigmoid().sum()


W1, B1, W2, X = rand(4, 5, seed=3), rand(5, seed=4), rand(5, 2, seed=5), rand(6, 4, seed=6)


def test_hessian_vector_product_of_mlp():
    def run(m):
        x = m.tensor(X)
        params = leaves(m, W1, B1, W2)
        loss = mlp(m, x, *params)
        grads = m.autograd.grad(loss, params, create_graph=True)
        vs = [m.tensor(rand(*p.shape, seed=10 + i)) for i, p in enumerate(params)]
        dot = sum((g * v).sum() for g, v in zip(grads, vs))
        return m.autograd.grad(dot, params)

    check_same(run)


def test_full_hessian_by_rows():
    def run(m):
        x, = leaves(m, V)
        y = (x.outer(x).sin() * x).sum()
        g, = m.autograd.grad(y, x, create_graph=True)
        return m.stack([m.autograd.grad(g[i], x, retain_graph=True)[0] for i in range(4)])

    check_same(run)


def test_gradient_penalty_then_backward_to_parameters():
    def run(m):
        params = leaves(m, W1, B1, W2)
        x, = leaves(m, X)
        out = mlp(m, x, *params)
        gx, = m.autograd.grad(out, x, create_graph=True)
        penalty = (gx.norm(2, dim=1) - 1).pow(2).mean()
        (out + 10 * penalty).backward()
        return [penalty, x.grad] + [p.grad for p in params]

    check_same(run)


def test_third_derivative():
    def run(m):
        x, = leaves(m, V)
        y = (x.sin() * x**2).sum()
        g1, = m.autograd.grad(y, x, create_graph=True)
        g2, = m.autograd.grad(g1.sum(), x, create_graph=True)
        g3, = m.autograd.grad(g2.sum(), x)
        return g1, g2, g3

    check_same(run)


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_backward_create_graph_accumulates_differentiable_grad():
    def run(m):
        x, = leaves(m, V)
        (x**3).sum().backward(create_graph=True)
        g = x.grad
        assert g.requires_grad
        x.grad = None
        g.sum().backward()
        return g, x.grad

    check_same(run)


def test_second_derivative_is_zero_for_linear_function_with_allow_unused():
    def run(m):
        x, = leaves(m, V)
        g, = m.autograd.grad((x * 3).sum(), x, create_graph=True)
        assert not g.requires_grad  # nothing left to differentiate, as in torch
        return g

    check_same(run)


# ------------------------------------------------------------------ gradgradcheck
def gg(fn, *shapes, positive=False, seed=0):
    arrays = [rand(*s, seed=seed + i, low=0.5 if positive else -1.0, high=2.0 if positive
                   else 1.0) for i, s in enumerate(shapes)]
    inputs = [ember.tensor(a, requires_grad=True) for a in arrays]
    assert ember.autograd.gradcheck(fn, inputs)
    assert ember.autograd.gradgradcheck(fn, inputs)


GRADGRAD = {
    "exp": (lambda x: x.exp(), [(2, 3)], False),
    "log": (lambda x: x.log(), [(2, 3)], True),
    "sin_cos": (lambda x: x.sin() * x.cos(), [(2, 3)], False),
    "tanh": (lambda x: x.tanh(), [(2, 3)], False),
    "sigmoid": (lambda x: x.sigmoid(), [(2, 3)], False),
    "sqrt": (lambda x: x.sqrt(), [(2, 3)], True),
    "rsqrt": (lambda x: x.rsqrt(), [(2, 3)], True),
    "abs": (lambda x: x.abs() * x, [(2, 3)], True),
    "pow_scalar": (lambda x: x**3, [(2, 3)], False),
    "pow_tensor": (lambda x, y: x**y, [(2, 3), (3,)], True),
    "rpow": (lambda x: 2.0**x, [(2, 3)], False),
    "div": (lambda x, y: x / y, [(2, 3), (2, 1)], True),
    "sum_dim": (lambda x: x.sum(1) ** 2, [(2, 3)], False),
    "mean": (lambda x: x.mean(0, keepdim=True) * x, [(2, 3)], False),
    "var": (lambda x: x.var(1), [(2, 4)], False),
    "var_all": (lambda x: x.var(), [(2, 3)], False),
    "std": (lambda x: x.std(1), [(2, 4)], False),
    "std_all": (lambda x: x.std(correction=0), [(2, 3)], False),
    "norm": (lambda x: x.norm(), [(2, 3)], False),
    "norm_dim": (lambda x: x.norm(dim=0), [(2, 3)], False),
    "norm_p3": (lambda x: x.norm(p=3, dim=1), [(2, 3)], True),
    "logsumexp": (lambda x: x.logsumexp(1), [(2, 3)], False),
    "amax": (lambda x: x.amax(1) * x.sum(), [(2, 3)], False),
    "max_dim": (lambda x: x.max(1)[0] ** 2, [(2, 3)], False),
    "prod": (lambda x: x.prod(1), [(2, 3)], False),
    # full reductions: 0-d outputs that the backward formula reuses
    "prod_all": (lambda x: x.prod(), [(2, 3)], False),
    "logsumexp_all": (lambda x: x.logsumexp((0, 1)), [(2, 3)], False),
    "amax_all": (lambda x: x.amax() * x, [(2, 3)], False),
    "pow_0d": (lambda x, y: x.sum() ** y.sum(), [(2, 3), (2,)], True),
    "exp_0d": (lambda x: (x.sum() / 4).exp(), [(2, 3)], False),
    "cumsum": (lambda x: x.cumsum(1) ** 2, [(2, 3)], False),
    "cumprod": (lambda x: x.cumprod(1), [(2, 3)], True),
    "matmul": (lambda a, b: a @ b, [(2, 3), (3, 4)], False),
    "matmul_batched": (lambda a, b: (a @ b).sin(), [(2, 2, 3), (3, 2)], False),
    "matmul_vec": (lambda a, b: (a @ b) ** 2, [(2, 3), (3,)], False),
    "einsum": (lambda a, b: ember.einsum("ij,jk->ik", a, b).sin(), [(2, 3), (3, 2)], False),
    "einsum_trace": (lambda a: ember.einsum("ii->", a) ** 2, [(3, 3)], False),
    "softmax": (lambda x: x.softmax(1), [(2, 3)], False),
    "log_softmax": (lambda x: x.log_softmax(0), [(2, 3)], False),
    "getitem": (lambda x: x[0, 1:] ** 2 + x[[1, 0, 1]].sum(), [(2, 3)], False),
    "gather": (lambda x: x.gather(1, ember.tensor([[0, 2], [1, 1]])) ** 2, [(2, 3)], False),
    "index_select": (lambda x: x.index_select(1, ember.tensor([2, 0, 2])) ** 2, [(2, 3)],
                     False),
    "where": (lambda x, y: ember.where(x > 0, x * y, y**2), [(2, 3), (3,)], False),
    "masked_fill": (lambda x: x.masked_fill(x > 0, 0.5) ** 2, [(2, 3)], False),
    "maximum": (lambda x, y: ember.maximum(x, y) ** 2, [(2, 3), (2, 3)], False),
    "clamp": (lambda x: x.clamp(-0.5, 0.5) * x, [(2, 3)], False),
    "cat_stack": (lambda x, y: ember.cat([x, y]).sin() * ember.stack([x, y]).sum(0).sum(),
                  [(2, 3), (2, 3)], False),
    "transpose_reshape": (lambda x: x.t().reshape(6) ** 2, [(2, 3)], False),
    "expand": (lambda x: x.expand(3, 2, 3) * x.sum(), [(2, 3)], False),
    "atan2": (lambda x, y: ember.atan2(x, y), [(2, 3), (2, 3)], True),
    "lerp": (lambda x, y: ember.lerp(x, y, x.sigmoid()), [(2, 3), (2, 3)], False),
    "linear": (lambda x, w, b: (x @ w.t() + b).tanh(), [(2, 3), (4, 3), (4,)], False),
    "layer_norm": (lambda x: layer_norm(x), [(2, 3)], False),
}


@pytest.mark.parametrize("name", list(GRADGRAD))
def test_gradgradcheck(name):
    fn, shapes, positive = GRADGRAD[name]
    gg(fn, *shapes, positive=positive)


TABLE = [c for c in GRADCHECK_CASES if c.grad]


@pytest.mark.parametrize("c", TABLE, ids=[c.name for c in TABLE])
def test_gradgradcheck_op_table(c):
    """Every op of the op table, differentiated twice."""
    specs = [as_input(s) for s in c.inputs]
    inputs = [ember.tensor(a, requires_grad=s.grad and a.dtype.kind == "f")
              for a, s in zip(make_arrays(specs, "float64"), specs)]

    def run(*xs):
        out = _flatten_outputs(c.fn(ember, *xs))
        return tuple(o for o in out if isinstance(o, ember.Tensor) and o.is_floating_point())

    if not any(t.requires_grad for t in inputs):
        pytest.skip("no differentiable input")
    assert ember.autograd.gradgradcheck(run, tuple(inputs), atol=1e-6, rtol=1e-4)
