"""Every op once, with its shapes (broadcast, scalar and empty included) and tolerances.

Each case runs in float32 and float64 against torch (forward values and gradients under a random
upstream gradient), and through Ember's own float64 gradcheck.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import pytest

from conformance import Input, compare, gradcheck

I = Input  # noqa: E741 (short name for the table)


def idx(values: Any) -> Input:
    """An int64 index tensor with fixed values."""
    import numpy as np

    return Input(shape=np.shape(values), values=np.asarray(values, dtype=np.int64), grad=False)


def mask(values: Any) -> Input:
    import numpy as np

    return Input(shape=np.shape(values), values=np.asarray(values, dtype=bool), grad=False)


@dataclass
class Case:
    name: str
    fn: Callable
    inputs: list
    rtol: float | None = None
    atol: float | None = None
    grad: bool = True
    gradcheck: bool = True
    dtypes: tuple = ("float32", "float64")
    kwargs: dict = field(default_factory=dict)


POS = dict(low=0.5, high=2.0)  # strictly positive inputs (log, sqrt, division)
UNIT = dict(low=-0.9, high=0.9)

CASES: list[Case] = []


def case(name: str, fn: Callable, *inputs: Any, **kw: Any) -> None:
    CASES.append(Case(name, fn, list(inputs), **kw))


# ------------------------------------------------------------------ binary, with broadcasting
BROADCAST_SHAPES = [
    ((3, 4), (3, 4)),
    ((3, 4), (4,)),
    ((2, 1, 4), (3, 1)),
    ((), (3,)),
    ((5,), ()),
    ((0, 3), (3,)),
]
for sa, sb in BROADCAST_SHAPES:
    tag = f"{sa}-{sb}"
    case(f"add{tag}", lambda m, x, y: x + y, I(sa), I(sb))
    case(f"sub{tag}", lambda m, x, y: x - y, I(sa), I(sb))
    case(f"mul{tag}", lambda m, x, y: x * y, I(sa), I(sb))
    case(f"div{tag}", lambda m, x, y: x / y, I(sa), I(sb, **POS))
    case(f"pow{tag}", lambda m, x, y: x**y, I(sa, **POS), I(sb))
    case(f"maximum{tag}", lambda m, x, y: m.maximum(x, y), I(sa), I(sb))
    case(f"minimum{tag}", lambda m, x, y: m.minimum(x, y), I(sa), I(sb))
    case(f"atan2{tag}", lambda m, x, y: m.atan2(x, y), I(sa), I(sb, **POS))
case("add_alpha", lambda m, x, y: m.add(x, y, alpha=2.5), I((3, 4)), I((4,)))
case("sub_alpha", lambda m, x, y: m.sub(x, y, alpha=-0.5), I((3, 4)), I((3, 1)))
case("rsub", lambda m, x, y: m.rsub(x, y), I((3, 4)), I((4,)))
case("remainder", lambda m, x, y: m.remainder(x, y), I((3, 4), low=-5, high=5), I((4,), **POS))
case("fmod", lambda m, x, y: m.fmod(x, y), I((3, 4), low=-5, high=5), I((4,), **POS))
case("lerp", lambda m, x, y: m.lerp(x, y, 0.3), I((3, 4)), I((4,)))
case("addcmul", lambda m, x, y, z: x.addcmul(y, z, value=0.5), I((3, 4)), I((3, 4)), I((4,)))
case("addcdiv", lambda m, x, y, z: x.addcdiv(y, z, value=2), I((3, 4)), I((4,)), I((3, 4), **POS))
case("fmax", lambda m, x, y: m.fmax(x, y), I((3, 4)), I((4,)))
case("float_power", lambda m, x: m.float_power(x, 2.5), I((3,), **POS))

# tensor with a Python number
case("add_scalar", lambda m, x: x + 2.5, I((3, 4)))
case("radd_scalar", lambda m, x: 2.5 + x, I((3, 4)))
case("rsub_scalar", lambda m, x: 2.5 - x, I((3, 4)))
case("mul_scalar", lambda m, x: x * -1.5, I((3, 4)))
case("div_scalar", lambda m, x: x / 3, I((3, 4)))
case("rdiv_scalar", lambda m, x: 3 / x, I((3, 4), **POS))
case("pow_2", lambda m, x: x**2, I((3, 4)))
case("pow_3", lambda m, x: x**3, I((3, 4)))
case("pow_half", lambda m, x: x**0.5, I((3, 4), **POS))
case("pow_neg", lambda m, x: x**-1.5, I((3, 4), **POS))
case("rpow", lambda m, x: 2**x, I((3, 4)))
case("pow_0", lambda m, x: x**0, I((3, 4)))
case("scalar_tensor_ops", lambda m, x: (x * 2 + 1) / 4 - x, I(()))

# ------------------------------------------------------------------ unary
UNARY_SHAPES = [(3, 4), (), (0,), (2, 3, 2)]
UNARY = [
    ("neg", lambda m, x: -x, {}),
    ("abs", lambda m, x: x.abs(), {}),
    ("exp", lambda m, x: x.exp(), {}),
    ("exp2", lambda m, x: m.exp2(x), {}),
    ("expm1", lambda m, x: x.expm1(), {}),
    ("log", lambda m, x: x.log(), POS),
    ("log2", lambda m, x: x.log2(), POS),
    ("log10", lambda m, x: x.log10(), POS),
    ("log1p", lambda m, x: x.log1p(), dict(low=-0.5, high=2.0)),
    ("sqrt", lambda m, x: x.sqrt(), POS),
    ("rsqrt", lambda m, x: x.rsqrt(), POS),
    ("square", lambda m, x: x.square(), {}),
    ("reciprocal", lambda m, x: x.reciprocal(), POS),
    ("sin", lambda m, x: x.sin(), {}),
    ("cos", lambda m, x: x.cos(), {}),
    ("tan", lambda m, x: x.tan(), dict(low=-1.0, high=1.0)),
    ("asin", lambda m, x: x.asin(), UNIT),
    ("acos", lambda m, x: x.acos(), UNIT),
    ("atan", lambda m, x: x.atan(), {}),
    ("sinh", lambda m, x: x.sinh(), {}),
    ("cosh", lambda m, x: x.cosh(), {}),
    ("tanh", lambda m, x: x.tanh(), {}),
    ("asinh", lambda m, x: x.asinh(), {}),
    ("acosh", lambda m, x: x.acosh(), dict(low=1.1, high=3.0)),
    ("atanh", lambda m, x: x.atanh(), UNIT),
    ("sigmoid", lambda m, x: x.sigmoid(), dict(low=-6.0, high=6.0)),
    ("logit", lambda m, x: x.logit(), dict(low=0.1, high=0.9)),
    ("logit_eps", lambda m, x: x.logit(eps=0.2), dict(low=0.05, high=0.95)),
    ("relu", lambda m, x: x.relu(), {}),
    ("erf", lambda m, x: x.erf(), {}),
    ("erfc", lambda m, x: x.erfc(), {}),
    ("erfinv", lambda m, x: x.erfinv(), UNIT),
    ("floor", lambda m, x: x.floor(), {}),
    ("ceil", lambda m, x: x.ceil(), {}),
    ("round", lambda m, x: x.round(), {}),
    ("round_decimals", lambda m, x: x.round(decimals=2), {}),
    ("trunc", lambda m, x: x.trunc(), {}),
    ("sign", lambda m, x: x.sign(), {}),
    ("frac", lambda m, x: x.frac(), {}),
    ("clamp", lambda m, x: x.clamp(-0.5, 0.7), {}),
    ("clamp_min", lambda m, x: x.clamp(min=0.1), {}),
    ("clamp_max", lambda m, x: m.clamp(x, max=0.1), {}),
    ("nan_to_num", lambda m, x: x.nan_to_num(), {}),
]
for name, fn, dom in UNARY:
    for shape in UNARY_SHAPES:
        # rounding ops are flat almost everywhere: skip finite differences across their jumps
        flat = name in ("floor", "ceil", "round", "round_decimals", "trunc", "sign", "frac",
                        "clamp", "clamp_min", "clamp_max", "abs", "relu")
        case(f"{name}{shape}", fn, I(shape, **dom), gradcheck=not flat or name in (
            "clamp", "clamp_min", "clamp_max", "abs", "relu"))
case("clamp_tensor_bounds", lambda m, x, lo, hi: x.clamp(lo, hi), I((3, 4)), I((4,), low=-1.0,
     high=-0.2), I((3, 1), low=0.2, high=1.0))

# ------------------------------------------------------------------ softmax family
for shape, dim in [((3, 5), 1), ((3, 5), 0), ((2, 3, 4), -1), ((4,), 0)]:
    case(f"softmax{shape}d{dim}", lambda m, x, d=dim: m.softmax(x, d), I(shape))
    case(f"log_softmax{shape}d{dim}", lambda m, x, d=dim: m.log_softmax(x, d), I(shape))
    case(f"logsumexp{shape}d{dim}", lambda m, x, d=dim: m.logsumexp(x, d), I(shape))
case("logsumexp_keepdim", lambda m, x: x.logsumexp((0, 2), keepdim=True), I((2, 3, 4)))
case("softmax_large_logits", lambda m, x: m.softmax(x * 1000, 1), I((2, 3)), gradcheck=False)
case("log_softmax_large_logits", lambda m, x: m.log_softmax(x * 1000, 1), I((2, 3)),
     gradcheck=False)
case("nn_functional_softmax", lambda m, x: m.nn.functional.softmax(x, dim=-1), I((2, 3)))

# ------------------------------------------------------------------ reductions
RED_SHAPE = (3, 4, 5)
for dim, keep in [(None, False), (0, False), (-1, True), ((0, 2), False), ((1, 2), True)]:
    tag = f"_{dim}_{keep}"
    args = () if dim is None else (dim,)
    case(f"sum{tag}", lambda m, x, a=args, k=keep: x.sum(*a, keepdim=k) if a else x.sum(),
         I(RED_SHAPE))
    case(f"mean{tag}", lambda m, x, a=args, k=keep: x.mean(*a, keepdim=k) if a else x.mean(),
         I(RED_SHAPE))
    case(f"amax{tag}", lambda m, x, a=args, k=keep: x.amax(*a, keepdim=k) if a else x.amax(),
         I(RED_SHAPE))
    case(f"amin{tag}", lambda m, x, a=args, k=keep: x.amin(*a, keepdim=k) if a else x.amin(),
         I(RED_SHAPE))
    case(f"var{tag}", lambda m, x, a=args, k=keep: x.var(*a, keepdim=k) if a else x.var(),
         I(RED_SHAPE))
    case(f"std{tag}", lambda m, x, a=args, k=keep: x.std(*a, keepdim=k) if a else x.std(),
         I(RED_SHAPE))
    case(f"norm{tag}", lambda m, x, a=args, k=keep: x.norm(dim=a[0] if a else None, keepdim=k),
         I(RED_SHAPE))
case("sum_empty", lambda m, x: x.sum(0), I((0, 3)))
case("mean_scalar", lambda m, x: x.mean(), I(()))
case("prod_all", lambda m, x: x.prod(), I((2, 3), low=0.5, high=1.5))
case("prod_dim", lambda m, x: x.prod(1, keepdim=True), I((3, 4), low=0.5, high=1.5))
case("prod_one_zero", lambda m, x: (x * m.tensor([1.0, 0.0, 1.0, 1.0], dtype=x.dtype)).prod(),
     I((4,)))
case("prod_two_zeros", lambda m, x: (x * m.tensor([0.0, 0.0, 1.0], dtype=x.dtype)).prod(), I((3,)))
case("var_correction0", lambda m, x: x.var(1, correction=0), I((3, 4)))
case("var_unbiased_false", lambda m, x: x.var(0, False), I((3, 4)))
case("std_correction2", lambda m, x: m.std(x, dim=1, correction=2), I((3, 5)))
case("var_mean", lambda m, x: m.var_mean(x, 1), I((3, 5)))
case("std_mean", lambda m, x: m.std_mean(x, dim=0, keepdim=True), I((3, 5)))
case("max_all", lambda m, x: x.max(), I((3, 4)))
case("min_all", lambda m, x: m.min(x), I((3, 4)))
case("max_ties", lambda m, x: (x * 0 + m.tensor([1.0, 3.0, 3.0], dtype=x.dtype) + x * 0).max(),
     I((3,)), gradcheck=False)
case("max_dim", lambda m, x: x.max(1), I((3, 4)))
case("min_dim_keepdim", lambda m, x: x.min(0, keepdim=True), I((3, 4)))
case("max_binary", lambda m, x, y: m.max(x, y), I((3, 4)), I((4,)))
case("argmax", lambda m, x: x.argmax(1), I((3, 4)), grad=False, gradcheck=False)
case("argmin_all", lambda m, x: x.argmin(), I((3, 4)), grad=False, gradcheck=False)
case("argmax_keepdim", lambda m, x: m.argmax(x, dim=0, keepdim=True), I((3, 4)), grad=False,
     gradcheck=False)
case("cumsum", lambda m, x: x.cumsum(1), I((3, 4)))
case("cumsum_neg", lambda m, x: m.cumsum(x, dim=-1), I((2, 3, 4)))
case("cumprod", lambda m, x: x.cumprod(1), I((3, 4), low=0.5, high=1.5))
case("cumprod_with_zero", lambda m, x: (x * m.tensor([1.0, 0.0, 1.0, 1.0], dtype=x.dtype))
     .cumprod(0), I((4,)), gradcheck=False)
case("norm_p1", lambda m, x: x.norm(p=1), I((3, 4)))
case("norm_p3_dim", lambda m, x: x.norm(p=3, dim=1), I((3, 4)))
case("norm_inf", lambda m, x: x.norm(p=float("inf")), I((3, 4)))
case("norm_fro", lambda m, x: m.norm(x, p="fro"), I((3, 4)))
case("linalg_vector_norm", lambda m, x: m.linalg.vector_norm(x, ord=2, dim=-1), I((3, 4)))
case("topk", lambda m, x: x.topk(2), I((3, 5)))
case("topk_smallest_dim0", lambda m, x: x.topk(2, dim=0, largest=False), I((4, 3)))
case("sort", lambda m, x: x.sort(1), I((3, 5)))
case("sort_descending", lambda m, x: m.sort(x, dim=0, descending=True), I((4, 3)))
case("argsort", lambda m, x: x.argsort(-1), I((3, 5)), grad=False, gradcheck=False)
case("kthvalue", lambda m, x: x.kthvalue(2, 1), I((3, 5)))
case("median_all", lambda m, x: x.median(), I((3, 5)))
case("median_dim", lambda m, x: x.median(1), I((3, 4)))
case("all_any", lambda m, x: ((x > 0).all(1), (x > 0).any(0), (x > 0).any()), I((3, 4)),
     grad=False, gradcheck=False)
case("count_nonzero", lambda m, x: m.count_nonzero(x > 0, dim=1), I((3, 4)), grad=False,
     gradcheck=False)

# ------------------------------------------------------------------ shape and movement
case("reshape", lambda m, x: x.reshape(4, -1), I((2, 3, 4)))
case("view", lambda m, x: x.view(6, 4), I((2, 3, 4)))
case("permute", lambda m, x: x.permute(2, 0, 1), I((2, 3, 4)))
case("transpose", lambda m, x: x.transpose(0, -1), I((2, 3, 4)))
case("T", lambda m, x: x.T, I((3, 4)))
case("mT", lambda m, x: x.mT, I((2, 3, 4)))
case("t", lambda m, x: x.t(), I((3, 4)))
case("expand", lambda m, x: x.expand(2, 3, 4), I((3, 1)))
case("expand_minus1", lambda m, x: x.expand(-1, 5), I((3, 1)))
case("expand_as", lambda m, x, y: x.expand_as(y), I((1, 4)), I((3, 4), grad=False))
case("broadcast_to", lambda m, x: m.broadcast_to(x, (2, 3)), I((3,)))
case("repeat", lambda m, x: x.repeat(2, 1, 3), I((3, 2)))
case("tile", lambda m, x: x.tile((2,)), I((3, 2)))
case("repeat_interleave", lambda m, x: x.repeat_interleave(2, dim=0), I((3, 2)))
case("repeat_interleave_flat", lambda m, x: m.repeat_interleave(x, 3), I((2, 2)))
case("flip", lambda m, x: x.flip(0, 2), I((2, 3, 4)))
case("fliplr", lambda m, x: m.fliplr(x), I((2, 3)))
case("roll", lambda m, x: x.roll(1, 0), I((3, 4)))
case("roll_multi", lambda m, x: m.roll(x, (1, -2), (0, 1)), I((3, 4)))
case("roll_flat", lambda m, x: x.roll(2), I((3, 4)))
case("squeeze", lambda m, x: x.squeeze(), I((1, 3, 1, 2)))
case("squeeze_dim", lambda m, x: x.squeeze(2), I((1, 3, 1, 2)))
case("squeeze_dims", lambda m, x: x.squeeze((0, 2)), I((1, 3, 1, 2)))
case("squeeze_noop", lambda m, x: x.squeeze(1), I((1, 3, 1, 2)))
case("unsqueeze", lambda m, x: x.unsqueeze(1), I((3, 4)))
case("unsqueeze_neg", lambda m, x: x.unsqueeze(-1), I((3, 4)))
case("flatten", lambda m, x: x.flatten(), I((2, 3, 4)))
case("flatten_range", lambda m, x: x.flatten(1, 2), I((2, 3, 4, 5)))
case("unflatten", lambda m, x: x.unflatten(1, (3, -1)), I((2, 12)))
case("movedim", lambda m, x: x.movedim(0, -1), I((2, 3, 4)))
case("tril", lambda m, x: x.tril(), I((4, 4)))
case("triu_k", lambda m, x: m.triu(x, 1), I((3, 4)))
case("tril_batched", lambda m, x: x.tril(-1), I((2, 3, 3)))
case("narrow", lambda m, x: x.narrow(1, 1, 2), I((3, 4)))
case("split", lambda m, x: x.split(2, dim=1), I((3, 5)))
case("split_sizes", lambda m, x: m.split(x, [1, 3, 1], dim=1), I((3, 5)))
case("chunk", lambda m, x: x.chunk(3, 0), I((7, 2)))
case("unbind", lambda m, x: x.unbind(1), I((3, 4)))
case("tensor_split", lambda m, x: m.tensor_split(x, 3, dim=1), I((2, 7)))
case("cat", lambda m, x, y: m.cat([x, y], 1), I((3, 2)), I((3, 4)))
case("cat_three", lambda m, x, y, z: m.cat((x, y, z)), I((1, 4)), I((2, 4)), I((3, 4)))
case("cat_neg_dim", lambda m, x, y: m.concat([x, y], dim=-1), I((2, 3, 2)), I((2, 3, 1)))
case("stack", lambda m, x, y: m.stack([x, y]), I((3, 4)), I((3, 4)))
case("stack_dim", lambda m, x, y: m.stack([x, y], dim=-1), I((3, 4)), I((3, 4)))
case("hstack", lambda m, x, y: m.hstack([x, y]), I((3, 2)), I((3, 1)))
case("vstack", lambda m, x, y: m.vstack([x, y]), I((4,)), I((2, 4)))
case("contiguous", lambda m, x: x.t().contiguous(), I((3, 4)))
case("clone", lambda m, x: x.clone() * 2, I((3, 4)))
case("diagonal", lambda m, x: x.diagonal(), I((3, 4)))
case("diagonal_offset", lambda m, x: m.diagonal(x, 1, 1, 2), I((2, 3, 4)))
case("diag_vector", lambda m, x: m.diag(x, -1), I((3,)))
case("diag_matrix", lambda m, x: x.diag(1), I((4, 4)))
case("trace", lambda m, x: x.trace(), I((3, 3)))
case("unfold", lambda m, x: x.unfold(1, 3, 2), I((2, 7)))
case("unfold_overlap", lambda m, x: x.unfold(0, 2, 1), I((5, 3)))
case("meshgrid", lambda m, x, y: m.meshgrid(x, y, indexing="ij"), I((3,)), I((4,)))
case("meshgrid_xy", lambda m, x, y: m.meshgrid(x, y, indexing="xy"), I((3,)), I((4,)))
case("to_double", lambda m, x: x.double() * 2, I((3,)), dtypes=("float32",))
case("to_float", lambda m, x: x.to(m.float32) * 2, I((3,)), dtypes=("float64",),
     gradcheck=False)

# ------------------------------------------------------------------ indexing
case("getitem_int", lambda m, x: x[1], I((3, 4)))
case("getitem_slice", lambda m, x: x[:, 1:3], I((3, 4)))
case("getitem_step", lambda m, x: x[::2, 1::2], I((5, 4)))
case("getitem_neg", lambda m, x: x[-1, -2], I((3, 4)))
case("getitem_none_ellipsis", lambda m, x: x[..., None, 1], I((2, 3, 4)))
case("getitem_list", lambda m, x: x[[0, 2, 0]], I((3, 4)))
case("getitem_tensor", lambda m, x, i: x[i], I((4, 3)), idx([[0, 3], [3, 3]]))
case("getitem_two_tensors", lambda m, x, i, j: x[i, j], I((4, 3)), idx([0, 2, 2]), idx([1, 0, 1]))
case("getitem_mixed", lambda m, x, i: x[1:, i], I((4, 3)), idx([2, 0, 2]))
case("getitem_bool", lambda m, x, k: x[k], I((3, 4)), mask([[1, 0, 1, 1], [0, 0, 1, 0],
                                                             [1, 1, 1, 1]]))
case("getitem_bool_rows", lambda m, x, k: x[k], I((3, 4)), mask([True, False, True]))
case("getitem_bool_from_compare", lambda m, x: x[x > 0], I((3, 4)))
case("gather", lambda m, x, i: x.gather(1, i), I((3, 4)), idx([[0, 3], [1, 1], [2, 0]]))
case("gather_dim0", lambda m, x, i: m.gather(x, 0, i), I((3, 4)), idx([[0, 2, 1, 1]]))
case("take_along_dim", lambda m, x, i: m.take_along_dim(x, i, 1), I((3, 4)),
     idx([[0], [3], [1]]))
case("take", lambda m, x, i: m.take(x, i), I((3, 4)), idx([0, 11, 5, 5]))
case("scatter", lambda m, x, i, s: x.scatter(1, i, s), I((3, 4)), idx([[0, 3], [1, 2], [2, 0]]),
     I((3, 2)))
case("scatter_value", lambda m, x, i: x.scatter(0, i, 1.5), I((3, 4)), idx([[0, 2, 1, 0]]))
case("scatter_add", lambda m, x, i, s: x.scatter_add(1, i, s), I((3, 4)),
     idx([[0, 0], [1, 2], [3, 3]]), I((3, 2)))
# torch's own backward rejects a src larger than index (it returns index-shaped gradients), so
# this case compares the forward pass with torch and checks gradients by finite differences
case("scatter_add_bigger_src", lambda m, x, i, s: m.scatter_add(x, 0, i, s), I((3, 4)),
     idx([[0, 2, 2, 1]]), I((2, 4)), grad=False)
for red in ("sum", "mean", "amax", "amin", "prod"):
    for incl in (True, False):
        case(f"scatter_reduce_{red}_{incl}",
             lambda m, x, i, s, r=red, inc=incl: x.scatter_reduce(0, i, s, r, include_self=inc),
             I((3, 4), low=0.5, high=2.0), idx([[0, 2, 2, 1], [0, 0, 2, 1]]),
             I((2, 4), low=0.5, high=2.0))
case("index_select", lambda m, x, i: x.index_select(1, i), I((3, 4)), idx([3, 0, 3]))
case("index_add", lambda m, x, i, s: x.index_add(0, i, s, alpha=2), I((3, 4)), idx([2, 0, 2]),
     I((3, 4)))
case("index_copy", lambda m, x, i, s: x.index_copy(1, i, s), I((3, 4)), idx([3, 1]), I((3, 2)))
case("index_fill", lambda m, x, i: x.index_fill(1, i, -1.0), I((3, 4)), idx([0, 2]))
case("index_put", lambda m, x, i, v: x.index_put((i,), v), I((4, 3)), idx([0, 2]), I((2, 3)))
case("index_put_accumulate", lambda m, x, i, v: x.index_put((i,), v, accumulate=True),
     I((4, 3)), idx([0, 2, 0]), I((3,)))
case("masked_fill", lambda m, x: x.masked_fill(x > 0.5, -2.0), I((3, 4)))
case("masked_fill_inf", lambda m, x: m.softmax(x.masked_fill(x > 1.0, float("-inf")), 1),
     I((3, 4)), gradcheck=False)
case("masked_select", lambda m, x, k: m.masked_select(x, k), I((3, 4)), mask([True, False, True,
                                                                              True]))
case("where", lambda m, c, x, y: m.where(c > 0, x, y), I((3, 4), grad=False), I((3, 4)), I((4,)))
case("where_scalar", lambda m, x: m.where(x > 0, x, 0.0), I((3, 4)))
case("where_scalar_first", lambda m, x: m.where(x > 0, -1.0, x), I((3, 4)))
case("where_broadcast_cond", lambda m, c, x, y: m.where(c > 0, x, y), I((3, 1), grad=False),
     I((1, 4)), I(()))
case("nonzero", lambda m, x: (x > 0).nonzero(), I((3, 4)), grad=False, gradcheck=False)

# ------------------------------------------------------------------ linear algebra
MATMUL_SHAPES = [
    ((3, 4), (4, 5)),
    ((4,), (4,)),
    ((4,), (4, 5)),
    ((3, 4), (4,)),
    ((2, 3, 4), (4, 5)),
    ((2, 1, 3, 4), (5, 4, 2)),
    ((4,), (2, 4, 3)),
    ((0, 4), (4, 3)),
]
for sa, sb in MATMUL_SHAPES:
    case(f"matmul{sa}@{sb}", lambda m, x, y: x @ y, I(sa), I(sb))
case("mm", lambda m, x, y: m.mm(x, y), I((3, 4)), I((4, 2)))
case("bmm", lambda m, x, y: m.bmm(x, y), I((2, 3, 4)), I((2, 4, 5)))
case("mv", lambda m, x, y: m.mv(x, y), I((3, 4)), I((4,)))
case("dot", lambda m, x, y: m.dot(x, y), I((4,)), I((4,)))
case("outer", lambda m, x, y: m.outer(x, y), I((3,)), I((4,)))
case("addmm", lambda m, b, x, y: m.addmm(b, x, y, beta=0.5, alpha=2.0), I((4,)), I((3, 2)),
     I((2, 4)))
case("baddbmm", lambda m, b, x, y: m.baddbmm(b, x, y), I((3, 4)), I((2, 3, 2)), I((2, 2, 4)))
case("tensordot", lambda m, x, y: m.tensordot(x, y, dims=([1, 2], [0, 1])), I((2, 3, 4)),
     I((3, 4, 5)))
EINSUMS = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("ij->", [(3, 4)]),
    ("ij->j", [(3, 4)]),
    ("i,j->ij", [(3,), (4,)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (2, 4, 5)]),
    ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
    ("ij,ij->i", [(3, 4), (3, 4)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("ji", [(3, 4)]),
    ("i i j -> j", [(3, 3, 2)]),
    ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
]
for eq, shapes in EINSUMS:
    case(f"einsum[{eq}]", lambda m, *xs, e=eq: m.einsum(e, *xs), *[I(s) for s in shapes])

# ------------------------------------------------------------------ padding
PADS = [
    ((2, 5), (1, 2), "constant"),
    ((2, 5), (-1, 2), "constant"),
    ((2, 3, 4), (1, 1, 2, 0), "constant"),
    ((2, 5), (2, 1), "reflect"),
    ((1, 2, 4, 5), (1, 2, 3, 1), "reflect"),
    ((2, 5), (2, 3), "replicate"),
    ((1, 2, 3, 4), (1, 1, 2, 2), "replicate"),
    ((2, 5), (2, 3), "circular"),
    ((1, 2, 3, 4), (1, 2, 1, 2), "circular"),
]
for shape, pad, mode in PADS:
    case(f"pad{shape}{pad}{mode}",
         lambda m, x, p=pad, md=mode: m.nn.functional.pad(x, p, mode=md), I(shape))
case("pad_value", lambda m, x: m.nn.functional.pad(x, (1, 1), value=3.5), I((2, 3)))

# ------------------------------------------------------------------ compositions
case("mlp_like", lambda m, x, w, b: ((x @ w.t() + b).relu() ** 2).mean(), I((5, 3)), I((4, 3)),
     I((4,)))
case("attention_like",
     lambda m, q, k, v: m.softmax(q @ k.transpose(-2, -1) / 2.0, -1) @ v,
     I((2, 3, 4)), I((2, 5, 4)), I((2, 5, 4)))
case("layernorm_like",
     lambda m, x: (x - x.mean(-1, keepdim=True)) / (x.var(-1, keepdim=True, unbiased=False) + 1e-5)
     .sqrt(), I((3, 6)))
case("reuse_input", lambda m, x: x * x + x.exp() * x, I((3,)))


def _ids(cases: list) -> list:
    return [c.name for c in cases]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("c", CASES, ids=_ids(CASES))
def test_matches_torch(c: Case, dtype: str) -> None:
    if dtype not in c.dtypes:
        pytest.skip(f"{c.name} is defined for {c.dtypes}")
    compare(c.fn, c.inputs, dtype=dtype, rtol=c.rtol, atol=c.atol, grad=c.grad)


GRADCHECK_CASES = [c for c in CASES if c.gradcheck and "float64" in c.dtypes]


@pytest.mark.parametrize("c", GRADCHECK_CASES, ids=_ids(GRADCHECK_CASES))
def test_gradcheck(c: Case) -> None:
    gradcheck(c.fn, c.inputs, atol=1e-6, rtol=1e-4)
