"""Forward-mode AD against torch: ember.autograd.forward_ad (dual tensors, per-op tangents) and
ember.func.jvp / linearize / stack_module_state / functionalize."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from autograd_helpers import check_same, check_same_error

import ember

RNG = np.random.default_rng(0)
A, TA = RNG.standard_normal((4, 5)), RNG.standard_normal((4, 5))
B, TB = RNG.standard_normal((5, 3)), RNG.standard_normal((5, 3))
IMG, TIMG = RNG.standard_normal((2, 3, 6, 6)), RNG.standard_normal((2, 3, 6, 6))
K, TK = RNG.standard_normal((4, 3, 3, 3)), RNG.standard_normal((4, 3, 3, 3))
X, TX = RNG.standard_normal((4, 3)), RNG.standard_normal((4, 3))
W1, TW1 = RNG.standard_normal((5, 3)), RNG.standard_normal((5, 3))
W2 = RNG.standard_normal((2, 5))


def dual_run(fn, *pairs):
    """fn(m, *dual inputs) inside a dual level; returns each output's (primal, tangent)."""
    def run(m):
        fw = m.autograd.forward_ad
        with fw.dual_level():
            duals = [fw.make_dual(m.tensor(p), m.tensor(t)) for p, t in pairs]
            out = fn(m, *duals)
            result = []
            for o in out if isinstance(out, tuple) else (out,):
                primal, tangent = fw.unpack_dual(o)
                result += [primal.detach(), None if tangent is None else tangent.detach()]
            return result
    return run


def _setitem(m, a):
    z = m.zeros(4, 5, dtype=m.float64)
    z[1] = a[2]
    return z


def _write_through_view(m, a):
    z = m.zeros(4, 5, dtype=m.float64)
    z[1].copy_(a[2] * 2)
    return z


def _attention(m, q):
    if m is torch:  # torch has no forward AD for its fused CPU kernel: the same math
        return torch.softmax(q @ q.transpose(-1, -2) / 6 ** 0.5, -1) @ q
    return m.nn.functional.scaled_dot_product_attention(q, q, q)


OPS = {  # name: (fn(m, *duals), (primal, tangent) per input)
    "sin": (lambda m, a: a.sin(), (A, TA)),
    "exp_log1p": (lambda m, a: a.exp().log1p(), (A, TA)),
    "tanh_sigmoid": (lambda m, a: a.tanh() * a.sigmoid(), (A, TA)),
    "relu": (lambda m, a: m.relu(a), (A, TA)),
    "gelu": (lambda m, a: m.nn.functional.gelu(a), (A, TA)),
    "pow": (lambda m, a: a ** 3 + 2 ** a, (A, TA)),
    "div": (lambda m, a: a / (a * a + 1), (A, TA)),
    "matmul": (lambda m, a, b: a @ b, (A, TA), (B, TB)),
    "matmul_one_dual": (lambda m, a: a @ m.tensor(B), (A, TA)),
    "reductions": (lambda m, a: (a.sum(0), a.mean(1), a.max(dim=1).values, a.norm()), (A, TA)),
    "softmax": (lambda m, a: m.softmax(a, dim=1), (A, TA)),
    "log_softmax": (lambda m, a: m.nn.functional.log_softmax(a, dim=-1), (A, TA)),
    "layer_norm": (lambda m, a: m.nn.functional.layer_norm(a, (5,)), (A, TA)),
    "batch_norm": (lambda m, x: m.nn.functional.batch_norm(x, None, None, training=True),
                   (IMG, TIMG)),
    "conv2d": (lambda m, x, k: m.nn.functional.conv2d(x, k, padding=1), (IMG, TIMG), (K, TK)),
    "max_pool2d": (lambda m, x: m.nn.functional.max_pool2d(x, 2), (IMG, TIMG)),
    "attention": (_attention, (IMG, TIMG)),
    "linear": (lambda m, x, w: m.nn.functional.linear(x, w), (X, TX), (W1, TW1)),
    "cross_entropy": (lambda m, a: m.nn.functional.cross_entropy(a, m.tensor([0, 1, 2, 3])),
                      (A, TA)),
    "views": (lambda m, a: (a.reshape(5, 4).T * 2, a[1:3, ::2] + a[0, ::2]), (A, TA)),
    "cat_stack": (lambda m, a: (m.cat([a, a * 2]), m.stack([a, a.sin()])), (A, TA)),
    "where": (lambda m, a: m.where(a > 0, a, a * 0.1), (A, TA)),
    "einsum_cumsum": (lambda m, a, b: (m.einsum("ij,jk->ik", a, b), a.cumsum(1)), (A, TA),
                      (B, TB)),
    "to_float32": (lambda m, a: a.float(), (A, TA)),
    "inplace": (lambda m, a: a.clone().mul_(3).add_(1), (A, TA)),
    "copy_into": (lambda m, a: m.zeros(4, 5, dtype=m.float64).copy_(a), (A, TA)),
    "setitem": (_setitem, (A, TA)),
    "write_through_view": (_write_through_view, (A, TA)),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_dual_tangents_match_torch(name: str) -> None:
    fn, *pairs = OPS[name]
    check_same(dual_run(fn, *pairs))


def test_integer_results_and_plain_tensors_have_no_tangent() -> None:
    check_same(dual_run(lambda m, a: (a.argmax(), a > 0, m.ones(2)), (A, TA)))


def test_forward_over_reverse_and_backward_through_duals() -> None:
    def run(m):
        fw = m.autograd.forward_ad
        x = m.tensor(A[0], requires_grad=True)
        with fw.dual_level():
            d = fw.make_dual(x, m.tensor(TA[0]))
            y = (d.sin() * d).sum()
            (g,) = m.autograd.grad(y, x, create_graph=True)  # its tangent: H @ t
            (d * d).sum().backward()
            return [fw.unpack_dual(y).tangent, fw.unpack_dual(g).tangent, g, x.grad,
                    y.requires_grad, d.requires_grad]
    check_same(run)


def test_custom_function_uses_its_jvp() -> None:
    def run(m):
        class Scale(m.autograd.Function):
            @staticmethod
            def forward(ctx, x, y, k):
                ctx.save_for_forward(x)
                return x * y * k

            @staticmethod
            def jvp(ctx, tx, ty, tk):
                return tx * 2 + ty  # tensors without a tangent get zeros, numbers None

            @staticmethod
            def backward(ctx, g):
                return g, g, None

        fw = m.autograd.forward_ad
        with fw.dual_level():
            x = fw.make_dual(m.tensor(A[0]), m.tensor(TA[0]))
            return list(fw.unpack_dual(Scale.apply(x, m.ones(5, dtype=m.float64), 3.0)))
    check_same(run)


def test_custom_function_without_jvp_raises() -> None:
    class NoJvp(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

    fw = ember.autograd.forward_ad
    with fw.dual_level(), pytest.raises(NotImplementedError, match="jvp"):
        NoJvp.apply(fw.make_dual(ember.ones(2), ember.ones(2)))


def test_levels_tangent_identity_and_exit() -> None:
    fw = ember.autograd.forward_ad
    x, t = ember.randn(3), ember.randn(3)
    with fw.dual_level() as level:
        assert level == 0
        d = fw.make_dual(x, t)
        primal, tangent = fw.unpack_dual(d)
        assert tangent is t and primal._base is x  # tangent as is; primal a view
        assert isinstance(fw.unpack_dual(d), fw.UnpackedDualTensor)
        assert fw.unpack_dual(x).tangent is None
        assert fw.unpack_dual(d.detach()).tangent is None  # as torch: detach drops it
        y = d.exp()
        with pytest.raises(RuntimeError, match="Nested forward mode AD"):
            fw.enter_dual_level()
    assert fw.unpack_dual(y).tangent is None  # dropped with the level
    level = fw.enter_dual_level()
    fw.exit_dual_level(level=level)


@pytest.mark.parametrize("case", ["no_level", "shape", "int_primal"])
def test_make_dual_errors_match_torch(case: str) -> None:
    def run(m):
        fw = m.autograd.forward_ad
        if case == "no_level":
            return fw.make_dual(m.ones(2), m.ones(2))
        with fw.dual_level():
            if case == "shape":
                return fw.make_dual(m.ones(3), m.ones(4))
            return fw.make_dual(m.arange(3), m.ones(3))
    words = {"no_level": ("enter_dual_level",), "shape": ("size",), "int_primal": ("floating",)}
    check_same_error(run, *words[case])


def test_ops_pay_nothing_outside_a_dual_level() -> None:
    from ember.autograd.node import op_watch

    assert not op_watch.active
    with ember.autograd.forward_ad.dual_level():
        assert op_watch.active
    assert not op_watch.active


# ------------------------------------------------------------------ ember.func
def t(m, a):
    return m.tensor(a)


def _mlp(m, x, w):
    return m.tanh(x @ w.T) @ t(m, W2).T


def _linearize(m):
    out, jvp_fn = m.func.linearize(lambda x: x.sin() * x, t(m, X))
    return [out, jvp_fn(t(m, TX)), jvp_fn(t(m, X))]


FUNC = {
    "mlp": lambda m: list(m.func.jvp(lambda x, w: _mlp(m, x, w), (t(m, X), t(m, W1)),
                                     (t(m, TX), t(m, TW1)))),
    "has_aux": lambda m: list(m.func.jvp(lambda x: (x.exp(), x.sum()), (t(m, X),), (t(m, TX),),
                                         has_aux=True)),
    "pytree": lambda m: list(m.func.jvp(lambda d: (d["a"] * d["b"], [d["a"].sin()]),
                                        ({"a": t(m, X), "b": t(m, TX)},),
                                        ({"a": t(m, TX), "b": t(m, X)},))),
    "hvp_forward_over_reverse": lambda m: m.func.jvp(
        m.func.grad(lambda w: (t(m, X) @ w).exp().sum()), (t(m, W2[0, :3]),),
        (t(m, TX[0]),))[1],
    "jvp_of_jvp": lambda m: m.func.jvp(lambda x: m.func.jvp(m.sin, (x,), (t(m, TX),))[1],
                                       (t(m, X),), (t(m, X),))[1],
    "grad_of_jvp": lambda m: m.func.grad(
        lambda x: m.func.jvp(lambda y: (y ** 3).sum(), (x,), (t(m, TX),))[1])(t(m, X)),
    "softmax_layer_norm": lambda m: m.func.jvp(
        lambda x: m.nn.functional.layer_norm(m.softmax(x, -1), (3,)), (t(m, X),),
        (t(m, TX),))[1],
    "conv2d": lambda m: m.func.jvp(lambda x, k: m.nn.functional.conv2d(x, k),
                                   (t(m, IMG), t(m, K)), (t(m, TIMG), t(m, TK)))[1],
    "constant_output": lambda m: list(m.func.jvp(lambda x: m.ones(2, dtype=m.float64),
                                                 (t(m, X),), (t(m, TX),))),
    "linearize": _linearize,
    "autograd_functional_jvp": lambda m: list(m.autograd.functional.jvp(
        lambda x: x.sin() @ t(m, B[:3]), t(m, X), t(m, TX))),
    "autograd_functional_hvp": lambda m: list(m.autograd.functional.hvp(
        lambda x: (x.exp() * x).sum(), t(m, X), t(m, TX))),
}


@pytest.mark.parametrize("name", sorted(FUNC))
def test_func_jvp_matches_torch(name: str) -> None:
    check_same(FUNC[name])


@pytest.mark.parametrize("case", ["primals_not_tuple", "structure", "shape", "not_tensor"])
def test_func_jvp_errors_match_torch(case: str) -> None:
    def run(m):
        one, two = m.ones(2), m.ones(3)
        if case == "primals_not_tuple":
            return m.func.jvp(lambda x: x, one, one)
        if case == "structure":
            return m.func.jvp(lambda x: x, (one,), (one, one))
        if case == "shape":
            return m.func.jvp(lambda x: x, (one,), (two,))
        return m.func.jvp(lambda x: 3, (one,), (one,))
    words = {"primals_not_tuple": ("tuple",), "structure": ("structure",), "shape": ("size",),
             "not_tensor": ("only tensors",)}
    check_same_error(run, *words[case])


def test_stack_module_state_ensemble_matches_torch() -> None:
    def run(m):
        models = [m.nn.Linear(3, 2).double() for _ in range(4)]
        for i, mod in enumerate(models):
            rng = np.random.default_rng(i)
            with m.no_grad():
                mod.weight.copy_(m.tensor(rng.standard_normal((2, 3))))
                mod.bias.copy_(m.tensor(rng.standard_normal(2)))
        params, buffers = m.func.stack_module_state(models)
        out = m.func.vmap(lambda p, b, x: m.func.functional_call(models[0], (p, b), (x,)),
                          (0, 0, None))(params, buffers, t(m, X))
        w = params["weight"]
        return [out, w, w.requires_grad, w.is_leaf, sorted(params), sorted(buffers)]
    check_same(run)


def test_stack_module_state_errors_match_torch() -> None:
    check_same_error(lambda m: m.func.stack_module_state([]), "at least one")
    check_same_error(lambda m: m.func.stack_module_state([m.nn.Linear(2, 2), m.nn.ReLU()]),
                     "same class")


def test_functionalize_is_the_same_function() -> None:
    def mutate(x):
        y = x.clone()
        y.add_(1)
        x.mul_(2)
        return y

    for m in (ember, torch):
        x = m.ones(3)
        out = m.func.functionalize(mutate)(x)
        assert out.tolist() == [2.0, 2.0, 2.0] and x.tolist() == [2.0, 2.0, 2.0]
    check_same_error(lambda m: m.func.functionalize(mutate, remove="x"), "remove")


def test_replace_all_batch_norm_modules() -> None:
    for m in (ember, torch):
        net = m.nn.Sequential(m.nn.Linear(2, 2), m.nn.BatchNorm1d(2))
        m.func.replace_all_batch_norm_modules_(net)
        bn = net[1]
        assert bn.running_mean is None and not bn.track_running_stats
