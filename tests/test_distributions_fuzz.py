"""Differential fuzzing of ember.distributions against torch.distributions.

Every family is built from the same parameters in both libraries (tensors and Python numbers,
float32 and float64, probs and logits) and compared on log_prob / cdf / icdf inside, at the edge
of and outside the support (validate_args on and off), on moments, entropy, shapes, supports,
gradients (torch's and finite differences), on every registered KL pair, on transforms and
constraints, and on the errors torch raises. Samples differ between the libraries: they are
checked by shape, dtype, support membership and moments. torch computes every expected value.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
import torch.distributions as TD
from torch.distributions import relaxed_bernoulli as t_relaxed_bernoulli
from torch.distributions import relaxed_categorical as t_relaxed_categorical
from torch.distributions.kl import _KL_REGISTRY as TORCH_KL_REGISTRY

import ember
import ember.distributions as D
from ember.distributions import relaxed_bernoulli as e_relaxed_bernoulli
from ember.distributions import relaxed_categorical as e_relaxed_categorical

pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning"),
              pytest.mark.filterwarnings("ignore::UserWarning")]

TOL = {"float16": 2e-3, "float32": 2e-5, "float64": 1e-9}
# the families torch keeps outside torch.distributions' namespace
EXTRA = {
    torch: {"LogitRelaxedBernoulli": t_relaxed_bernoulli.LogitRelaxedBernoulli,
            "ExpRelaxedCategorical": t_relaxed_categorical.ExpRelaxedCategorical},
    ember: {"LogitRelaxedBernoulli": e_relaxed_bernoulli.LogitRelaxedBernoulli,
            "ExpRelaxedCategorical": e_relaxed_categorical.ExpRelaxedCategorical},
}


class _Dists:
    """lib's distributions namespace plus the families torch keeps in submodules."""

    def __init__(self, lib):
        self._ns = TD if lib is torch else D
        self._extra = EXTRA[lib]

    def __getattr__(self, name):
        return self._extra[name] if name in self._extra else getattr(self._ns, name)


DISTS = {torch: _Dists(torch), ember: _Dists(ember)}


def _dtype_name(x) -> str:
    return str(x.dtype).split(".")[-1]


def _same(expected, actual, rtol=None, atol=None) -> None:
    """torch's result and Ember's: same type, dtype, shape and values (NaN where NaN)."""
    if isinstance(expected, torch.Tensor):
        assert isinstance(actual, ember.Tensor), type(actual)
        assert _dtype_name(actual) == _dtype_name(expected), (actual.dtype, expected.dtype)
        assert tuple(actual.shape) == tuple(expected.shape), (actual.shape, expected.shape)
        e = expected.detach().numpy().astype(np.float64)
        a = actual.detach().numpy().astype(np.float64)
        tol = TOL.get(_dtype_name(expected), 0.0)
        np.testing.assert_allclose(a, e, rtol=tol if rtol is None else rtol,
                                   atol=tol if atol is None else atol, equal_nan=True)
    elif isinstance(expected, (tuple, list)):
        assert len(actual) == len(expected)
        for x, y in zip(expected, actual, strict=True):
            _same(x, y, rtol, atol)
    elif isinstance(expected, torch.Size):
        assert tuple(actual) == tuple(expected)
    else:
        assert actual == expected, (actual, expected)


def _both(fn, rtol=None, atol=None) -> None:
    """fn(lib, dists) on torch and on Ember: equal results, or the same exception type."""
    try:
        expected = fn(torch, DISTS[torch])
    except Exception as exc:  # noqa: BLE001 (Ember must refuse the same way)
        with pytest.raises(type(exc)):
            fn(ember, DISTS[ember])
        return
    _same(expected, fn(ember, DISTS[ember]), rtol, atol)


def _tensor(lib, values, dtype="float32", grad=False, leaves=None):
    x = lib.tensor(np.asarray(values, dtype=np.float64), dtype=getattr(lib, dtype),
                   requires_grad=grad)
    if leaves is not None:
        leaves.append(x)
    return x


def _grads(lib, out, leaves):
    """Gradient of a fixed weighting of `out` w.r.t. each leaf, flattened and joined."""
    weights = lib.tensor(np.cos(np.arange(out.numel()) + 0.5).reshape(tuple(out.shape)),
                         dtype=out.dtype)
    grads = lib.autograd.grad((out * weights).sum(), leaves, allow_unused=True)
    return lib.cat([(lib.zeros_like(x) if g is None else g).reshape(-1)
                    for g, x in zip(grads, leaves, strict=True)])


@pytest.fixture
def torch_float64_default():
    """torch's GeneralizedPareto compares with a float32 zero unless float64 is the default."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


# ------------------------------------------------------------------ the family table
LOC = [-1.3, 0.2, 2.0]
POS = [0.5, 1.0, 2.5]
PROB = [0.1, 0.5, 0.9]
REAL_VALUES = [-2.0, -0.0, 0.0, 0.3, 1.0, 1.7, 5.0]
UNIT_VALUES = [0.0, 0.2, 0.5, 1.0, 1.5, -0.1]
COUNT_VALUES = [0.0, 1.0, 3.0, 5.0, 6.0, -1.0, 2.5]
CAT_PROBS = [[0.2, 0.3, 0.5], [0.0, 0.5, 0.5]]

# name -> (build(lib, dists, dtype, t), values for log_prob/cdf or None); t(values) is a tensor
FAMILIES = {
    "normal": (lambda l, d, t: d.Normal(t(LOC), t(POS)), REAL_VALUES),
    "normal_numbers": (lambda l, d, t: d.Normal(0.5, 2.0), REAL_VALUES),
    "normal_tensor_number": (lambda l, d, t: d.Normal(t(LOC), 2.0), REAL_VALUES),
    "normal_0d": (lambda l, d, t: d.Normal(t(0.3), t(1.5)), REAL_VALUES),
    "normal_broadcast": (lambda l, d, t: d.Normal(t([[0.0], [1.0]]), t(POS)), REAL_VALUES),
    "laplace": (lambda l, d, t: d.Laplace(t(LOC), t(POS)), REAL_VALUES),
    "cauchy": (lambda l, d, t: d.Cauchy(t(LOC), t(POS)), REAL_VALUES),
    "gumbel": (lambda l, d, t: d.Gumbel(t(LOC), t(POS)), REAL_VALUES),
    "half_normal": (lambda l, d, t: d.HalfNormal(t(POS)), REAL_VALUES),
    "half_cauchy": (lambda l, d, t: d.HalfCauchy(t(POS)), REAL_VALUES),
    "log_normal": (lambda l, d, t: d.LogNormal(t(LOC), t(POS)), REAL_VALUES),
    "exponential": (lambda l, d, t: d.Exponential(t(POS)), REAL_VALUES),
    "exponential_number": (lambda l, d, t: d.Exponential(1.5), REAL_VALUES),
    "uniform": (lambda l, d, t: d.Uniform(t(LOC), t([3.0, 3.0, 3.0])), REAL_VALUES),
    "uniform_numbers": (lambda l, d, t: d.Uniform(0.0, 1.0), UNIT_VALUES),
    "gamma": (lambda l, d, t: d.Gamma(t(POS), t(PROB)), REAL_VALUES),
    "gamma_small_shape": (lambda l, d, t: d.Gamma(t([0.5, 0.9, 1.0]), 1.0), REAL_VALUES),
    "chi2": (lambda l, d, t: d.Chi2(t([1.0, 2.0, 5.0])), REAL_VALUES),
    "beta": (lambda l, d, t: d.Beta(t(POS), t([0.5, 2.0, 1.0])), UNIT_VALUES),
    "beta_mode_edges": (lambda l, d, t: d.Beta(t([0.5, 0.5, 2.0, 1.0, 1.0, 3.0, 0.2, 1.0]),
                                               t([0.5, 2.0, 0.5, 1.0, 0.5, 3.0, 1.0, 0.2])),
                        UNIT_VALUES),
    "dirichlet": (lambda l, d, t: d.Dirichlet(t([[0.5, 1.0, 2.0], [1, 1, 1], [0.3, 0.5, 0.9]])),
                  None),
    "student_t": (lambda l, d, t: d.StudentT(t([0.5, 1.5, 3.0]), t(LOC), t(POS)), REAL_VALUES),
    "student_t_number": (lambda l, d, t: d.StudentT(3.0), REAL_VALUES),
    "pareto": (lambda l, d, t: d.Pareto(t(POS), t([0.5, 1.5, 3.0])), REAL_VALUES),
    "weibull": (lambda l, d, t: d.Weibull(t(POS), t([0.5, 1.0, 3.0])), REAL_VALUES),
    "inverse_gamma": (lambda l, d, t: d.InverseGamma(t([0.5, 1.5, 3.0]), t(POS)), REAL_VALUES),
    "kumaraswamy": (lambda l, d, t: d.Kumaraswamy(t([0.5, 2.0, 1.0]), t([0.5, 3.0, 1.0])),
                    UNIT_VALUES),
    "fisher_snedecor": (lambda l, d, t: d.FisherSnedecor(t([1.0, 3.0, 6.0]), t([1.0, 3.0, 6.0])),
                        REAL_VALUES),
    "von_mises": (lambda l, d, t: d.VonMises(t(LOC), t(POS)), REAL_VALUES),
    "continuous_bernoulli": (lambda l, d, t: d.ContinuousBernoulli(t(PROB)), UNIT_VALUES),
    "continuous_bernoulli_logits": (lambda l, d, t: d.ContinuousBernoulli(logits=t(LOC)),
                                    UNIT_VALUES),
    "generalized_pareto": (lambda l, d, t: d.GeneralizedPareto(t(LOC), t(POS),
                                                               t([-0.3, 0.0, 0.4])), REAL_VALUES),
    "bernoulli": (lambda l, d, t: d.Bernoulli(t([0.0, 0.3, 1.0])), [0.0, 1.0, 0.5, 2.0]),
    "bernoulli_logits": (lambda l, d, t: d.Bernoulli(logits=t(LOC)), [0.0, 1.0, 0.5]),
    "binomial": (lambda l, d, t: d.Binomial(5, t([0.0, 0.3, 1.0])), COUNT_VALUES),
    "binomial_tensor_count": (lambda l, d, t: d.Binomial(t([0.0, 3.0, 5.0]), t([0.2, 0.3, 0.9])),
                              COUNT_VALUES),
    "binomial_logits": (lambda l, d, t: d.Binomial(7, logits=t(LOC)), COUNT_VALUES),
    "geometric": (lambda l, d, t: d.Geometric(t([0.2, 0.5, 1.0])), COUNT_VALUES),
    "geometric_logits": (lambda l, d, t: d.Geometric(logits=t(LOC)), COUNT_VALUES),
    "poisson": (lambda l, d, t: d.Poisson(t([0.0, 0.5, 4.0])), COUNT_VALUES),
    "negative_binomial": (lambda l, d, t: d.NegativeBinomial(t(POS), t(PROB)), COUNT_VALUES),
    "negative_binomial_logits": (lambda l, d, t: d.NegativeBinomial(t(POS), logits=t(LOC)),
                                 COUNT_VALUES),
    "categorical": (lambda l, d, t: d.Categorical(t(CAT_PROBS)), [0.0, 1.0, 2.0, 3.0, -1.0]),
    "categorical_logits": (lambda l, d, t: d.Categorical(logits=t([[0.2, -math.inf, 0.5],
                                                                   [1.0, 2.0, 3.0]])),
                           [0.0, 1.0, 2.0]),
    "one_hot": (lambda l, d, t: d.OneHotCategorical(t(CAT_PROBS)), None),
    "multinomial": (lambda l, d, t: d.Multinomial(4, t(CAT_PROBS)), None),
    "relaxed_bernoulli": (lambda l, d, t: d.RelaxedBernoulli(t([0.5]), t(PROB)), [0.1, 0.5, 0.9]),
    "logit_relaxed_bernoulli": (lambda l, d, t: d.LogitRelaxedBernoulli(t([0.5]), t(PROB)),
                                REAL_VALUES),
    "relaxed_one_hot": (lambda l, d, t: d.RelaxedOneHotCategorical(t(0.5), t([0.2, 0.3, 0.5])),
                        None),
    "exp_relaxed_categorical": (lambda l, d, t: d.ExpRelaxedCategorical(t(0.5),
                                                                        t([0.2, 0.3, 0.5])),
                                None),
    "mvn": (lambda l, d, t: d.MultivariateNormal(t([0.0, 1.0]), t([[2.0, 0.5], [0.5, 1.0]])),
            None),
    "lowrank_mvn": (lambda l, d, t: d.LowRankMultivariateNormal(t([0.0, 1.0]), t([[1.0], [0.5]]),
                                                                t([1.0, 2.0])), None),
    "independent": (lambda l, d, t: d.Independent(d.Normal(t([LOC, POS]), t(POS)), 1), None),
    "mixture": (lambda l, d, t: d.MixtureSameFamily(d.Categorical(t([0.3, 0.7])),
                                                    d.Normal(t([-1.0, 2.0]), t([0.5, 1.5]))),
                REAL_VALUES),
    "transformed": (lambda l, d, t: d.TransformedDistribution(
        d.Normal(t(LOC), t(POS)), [d.transforms.AffineTransform(1.0, -2.0),
                                   d.transforms.SigmoidTransform()]), UNIT_VALUES),
}
DTYPES = ["float32", "float64"]
# torch evaluates VonMises' Bessel ratios with polynomial fits (~1e-7 relative) and
# Multinomial's entropy with a float32 lgamma(n + 1): Ember's float64 values are the exact ones
LOOSE = {"von_mises": 1e-6, "multinomial": 1e-7}
PROPERTIES = ["batch_shape", "event_shape", "mean", "mode", "variance", "stddev", "has_rsample",
              "has_enumerate_support"]
# torch 2.x's Kumaraswamy.mode swaps the parameters and returns NaN everywhere: Ember returns
# the textbook mode; torch's LogitRelaxedBernoulli has an rsample but leaves has_rsample False
# (its ExpRelaxedCategorical sibling says True): Ember says True (both listed in the README)
KNOWN = {("kumaraswamy", "mode"), ("logit_relaxed_bernoulli", "has_rsample")}


def _make(name, dtype, lib, validate_args=None, leaves=None, grad=False):
    """The family `name` in lib with parameters of `dtype` (validate_args passed through the
    class-wide default, as torch's constructors read it)."""
    old = D.Distribution._validate_args, TD.Distribution._validate_args
    if validate_args is not None:
        D.Distribution.set_default_validate_args(validate_args)
        TD.Distribution.set_default_validate_args(validate_args)
    try:
        return FAMILIES[name][0](lib, DISTS[lib], lambda v: _tensor(lib, v, dtype, grad, leaves))
    finally:
        D.Distribution.set_default_validate_args(old[0])
        TD.Distribution.set_default_validate_args(old[1])


def _prepare(name, dtype, request):
    if name == "generalized_pareto" and dtype == "float64":
        request.getfixturevalue("torch_float64_default")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_properties(name, dtype, request):
    _prepare(name, dtype, request)
    tol = LOOSE.get(name) if dtype == "float64" else None
    for prop in PROPERTIES:
        if (name, prop) in KNOWN:
            continue
        _both(lambda lib, d, prop=prop: getattr(_make(name, dtype, lib), prop), tol, tol)
    for method in ["entropy", "perplexity"]:
        _both(lambda lib, d, method=method: getattr(_make(name, dtype, lib), method)(), tol, tol)
    _both(lambda lib, d: type(_make(name, dtype, lib).support).__name__)
    _both(lambda lib, d: (_make(name, dtype, lib).support.is_discrete,
                          _make(name, dtype, lib).support.event_dim))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_sample_shape_dtype_support_and_expand(name, dtype, request):
    _prepare(name, dtype, request)
    ember.manual_seed(0)
    for shape in [(), (4,), (2, 3)]:
        def draw(lib, d, shape=shape):
            x = _make(name, dtype, lib).sample(shape)
            return tuple(x.shape), _dtype_name(x)
        _both(draw)
    dist = _make(name, dtype, ember)
    x = dist.sample((200,))
    assert bool(dist.support.check(x).all()), name
    if dist.has_rsample:
        assert tuple(dist.rsample((2,)).shape) == (2,) + tuple(x.shape[1:])
    new_batch = (5,) + tuple(dist.batch_shape)
    _both(lambda lib, d: (lambda e: (tuple(e.batch_shape), tuple(e.event_shape),
                                     tuple(e.sample((2,)).shape)))(
        _make(name, dtype, lib).expand(new_batch)))
    _both(lambda lib, d: _make(name, dtype, lib).expand(new_batch).mean
          if name not in ("relaxed_bernoulli", "logit_relaxed_bernoulli", "relaxed_one_hot",
                          "exp_relaxed_categorical") else 0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(n for n, (_, v) in FAMILIES.items() if v is not None))
def test_log_prob_cdf_icdf_over_the_support_edges(name, dtype, request):
    _prepare(name, dtype, request)
    values = FAMILIES[name][1]
    for validate in (True, False):
        for v in values:
            def log_prob(lib, d, v=v, validate=validate):
                dist = _make(name, dtype, lib, validate_args=validate)
                return dist.log_prob(lib.full(tuple(dist.batch_shape), v,
                                              dtype=getattr(lib, dtype)))
            _both(log_prob, rtol=1e-4 if dtype == "float32" else 1e-9, atol=1e-5)
    for v in values:
        def cdf(lib, d, v=v):
            dist = _make(name, dtype, lib)
            return dist.cdf(lib.full(tuple(dist.batch_shape), v, dtype=getattr(lib, dtype)))
        _both(cdf, rtol=1e-4, atol=1e-6)
    for q in [0.0, 0.25, 0.5, 0.9, 1.0, 1.5]:
        def icdf(lib, d, q=q):
            dist = _make(name, dtype, lib)
            return dist.icdf(lib.full(tuple(dist.batch_shape), q, dtype=getattr(lib, dtype)))
        _both(icdf, rtol=1e-4, atol=1e-6)
    _both(lambda lib, d: _make(name, dtype, lib).enumerate_support())
    _both(lambda lib, d: _make(name, dtype, lib).enumerate_support(expand=False))


# values inside the support, for the gradient checks
INSIDE = {"uniform_numbers": 0.5, "beta": 0.3, "beta_mode_edges": 0.3, "kumaraswamy": 0.3,
          "continuous_bernoulli": 0.3, "continuous_bernoulli_logits": 0.3,
          "relaxed_bernoulli": 0.4, "bernoulli": 1.0, "bernoulli_logits": 1.0, "binomial": 0.0,
          "binomial_tensor_count": 0.0, "binomial_logits": 3.0, "geometric": 0.0,
          "geometric_logits": 2.0, "poisson": 0.0, "negative_binomial": 2.0,
          "negative_binomial_logits": 2.0, "categorical": 1.0, "categorical_logits": 2.0,
          "transformed": 0.4, "pareto": 3.0, "generalized_pareto": [0.0, 1.0, 2.5]}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(n for n, (_, v) in FAMILIES.items() if v is not None))
def test_log_prob_gradients(name, dtype, request):
    _prepare(name, dtype, request)
    v = INSIDE.get(name, 1.7)

    def grads(lib, d):
        leaves = []
        dist = _make(name, dtype, lib, leaves=leaves, grad=True)
        if not leaves:
            return lib.zeros(1)
        value = _tensor(lib, np.broadcast_to(v, tuple(dist.batch_shape)), dtype)
        return _grads(lib, dist.log_prob(value), leaves)
    _both(grads, rtol=1e-4 if dtype == "float32" else 1e-8, atol=1e-5)


@pytest.mark.parametrize("name", ["normal", "gamma", "beta", "student_t", "von_mises",
                                  "weibull", "kumaraswamy", "continuous_bernoulli",
                                  "negative_binomial", "fisher_snedecor", "inverse_gamma",
                                  "binomial_logits", "mixture"])
def test_log_prob_gradients_match_finite_differences(name):
    """Ember's float64 log_prob gradients against central differences of Ember's own values."""
    v = INSIDE.get(name, 1.7)
    leaves = []
    dist = _make(name, "float64", ember, leaves=leaves, grad=True)
    value = _tensor(ember, np.broadcast_to(v, tuple(dist.batch_shape)), "float64")
    analytic = _grads(ember, dist.log_prob(value), leaves).numpy()
    numeric = []
    for i, leaf in enumerate(leaves):
        base = leaf.detach().numpy().copy()
        for j in range(base.size):
            parts = []
            for step in (1e-6, -1e-6):
                arrays = [x.detach().numpy().copy() for x in leaves]
                arrays[i].reshape(-1)[j] += step
                it = iter(arrays)
                d = FAMILIES[name][0](ember, DISTS[ember],
                                      lambda _v, it=it: ember.tensor(next(it)))
                out = d.log_prob(value).numpy()
                w = np.cos(np.arange(out.size) + 0.5).reshape(out.shape)
                parts.append((out * w).sum())
            numeric.append((parts[0] - parts[1]) / 2e-6)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["normal", "gamma", "beta", "dirichlet", "student_t", "mvn",
                                  "lowrank_mvn", "von_mises", "weibull", "kumaraswamy",
                                  "continuous_bernoulli", "bernoulli_logits", "categorical",
                                  "binomial_logits", "geometric", "poisson", "gumbel",
                                  "half_normal", "log_normal", "laplace", "cauchy",
                                  "fisher_snedecor", "inverse_gamma", "uniform", "chi2",
                                  "negative_binomial", "one_hot", "independent"])
@pytest.mark.parametrize("attr", ["entropy", "mean", "variance", "stddev"])
def test_moment_and_entropy_gradients(name, attr):
    def grads(lib, d):
        leaves = []
        dist = _make(name, "float64", lib, leaves=leaves, grad=True)
        out = getattr(dist, attr)
        out = out() if callable(out) else out
        if not out.requires_grad:
            return lib.zeros(1)
        return _grads(lib, out, leaves)
    _both(grads, rtol=LOOSE.get(name, 1e-7), atol=1e-9)


def test_beta_mode_follows_the_dirichlet():
    """Beta.mode is the Dirichlet's: clamped (a-1)+ / ((a-1)+ + (b-1)+), the vertex x = 1
    when a, b < 1 (Ember returned (a-1)/(a+b-2): -1 for a=0.5, b=2)."""
    a = [0.5, 0.5, 2.0, 1.0, 1.0, 3.0, 0.2, 1.0, 0.9]
    b = [0.5, 2.0, 0.5, 1.0, 0.5, 3.0, 1.0, 0.2, 0.3]
    for dtype in DTYPES:
        _both(lambda lib, d, dtype=dtype: d.Beta(_tensor(lib, a, dtype),
                                                 _tensor(lib, b, dtype)).mode)
    _both(lambda lib, d: d.Dirichlet(_tensor(lib, [[0.5, 0.3], [0.2, 0.9], [2.0, 0.5]])).mode)


# ------------------------------------------------------------------ samples: moments, rsample
MOMENT_FAMILIES = ["normal", "laplace", "gumbel", "half_normal", "exponential", "uniform",
                   "gamma", "chi2", "beta", "dirichlet", "student_t_number", "weibull",
                   "kumaraswamy", "continuous_bernoulli", "bernoulli", "binomial",
                   "binomial_tensor_count", "geometric", "poisson", "negative_binomial",
                   "categorical", "one_hot", "multinomial", "mvn", "lowrank_mvn", "mixture",
                   "independent", "log_normal"]


@pytest.mark.parametrize("name", MOMENT_FAMILIES)
def test_sample_moments(name):
    ember.manual_seed(1)
    n = 20000
    tdist = _make(name, "float64", torch)
    x = _make(name, "float64", ember).sample((n,)).numpy().astype(np.float64)
    mean, var = tdist.mean.numpy(), tdist.variance.numpy()
    if name == "categorical":  # the mean of the index, from torch's probs
        p = tdist.probs.numpy()
        k = np.arange(p.shape[-1])
        mean = (p * k).sum(-1)
        var = (p * k**2).sum(-1) - mean**2
    finite = np.isfinite(mean) & np.isfinite(var)
    err = np.abs(x.mean(0) - mean)[finite]
    assert np.all(err <= 5 * np.sqrt(var[finite] / n) + 1e-3), (name, err)
    sample_var = x.var(0)[finite]
    assert np.allclose(sample_var, var[finite], rtol=0.1, atol=2e-3), name


@pytest.mark.parametrize("name", ["normal", "laplace", "cauchy", "gumbel", "log_normal",
                                  "half_normal", "uniform"])
def test_rsample_gradient_with_fixed_noise(name):
    """x = loc + scale * eps (or its transform) exactly: d sum(x) / d loc counts the draws and
    d sum(x) / d scale sums the standardised draws."""
    ember.manual_seed(2)
    leaves = []
    dist = _make(name, "float64", ember, leaves=leaves, grad=True)
    x = dist.rsample((50,))
    x.sum().backward()
    xd = x.detach().numpy()
    if name == "uniform":
        low, high = (p.detach().numpy() for p in leaves)
        u = (xd - low) / (high - low)
        np.testing.assert_allclose(leaves[0].grad.numpy(), (1 - u).sum(0), rtol=1e-9)
        np.testing.assert_allclose(leaves[1].grad.numpy(), u.sum(0), rtol=1e-9)
        return
    if name == "half_normal":
        (scale,) = (p.detach().numpy() for p in leaves)
        np.testing.assert_allclose(leaves[0].grad.numpy(), (xd / scale).sum(0), rtol=1e-9)
        return
    loc, scale = (p.detach().numpy() for p in leaves)
    y = np.log(xd) if name == "log_normal" else xd
    dy = xd if name == "log_normal" else np.ones_like(xd)  # dx/dy
    np.testing.assert_allclose(leaves[0].grad.numpy(), dy.sum(0), rtol=1e-9)
    np.testing.assert_allclose(leaves[1].grad.numpy(), (dy * (y - loc) / scale).sum(0),
                               rtol=1e-8)


@pytest.mark.parametrize("name", ["gamma", "beta", "dirichlet", "exponential", "weibull",
                                  "student_t", "chi2", "kumaraswamy", "pareto",
                                  "relaxed_bernoulli", "relaxed_one_hot", "mvn", "lowrank_mvn"])
def test_has_rsample_and_rsample_carries_a_graph(name):
    _both(lambda lib, d: _make(name, "float64", lib).has_rsample)
    leaves = []
    dist = _make(name, "float64", ember, leaves=leaves, grad=True)
    x = dist.rsample((3,))
    assert x.requires_grad
    x.sum().backward()
    assert any(p.grad is not None and np.isfinite(p.grad.numpy()).all() for p in leaves)


def test_rsample_refused_where_torch_refuses():
    for name in ["categorical", "bernoulli", "poisson", "binomial", "geometric", "von_mises"]:
        _both(lambda lib, d, name=name: _make(name, "float64", lib).rsample())


# ------------------------------------------------------------------ KL divergence, every pair
def _kl_family(name, lib, dtype, variant, leaves=None):
    d = DISTS[lib]
    t = lambda v: _tensor(lib, v, dtype, leaves is not None, leaves)  # noqa: E731
    a = [[0.5, 1.5, 3.0], [0.8, 2.0, 0.3]][variant]
    b = [[1.2, 0.7, 2.0], [2.5, 0.4, 1.1]][variant]
    p = [[0.2, 0.5, 0.9], [0.7, 0.1, 0.4]][variant]
    loc = [[-1.0, 0.3, 2.0], [0.5, -0.2, 0.1]][variant]
    make = {
        "Normal": lambda: d.Normal(t(loc), t(a)),
        "Bernoulli": lambda: d.Bernoulli(t(p)),
        "Categorical": lambda: d.Categorical(t([p, b])),
        "OneHotCategorical": lambda: d.OneHotCategorical(t([p, b])),
        # variant 0 reaches 1.0 at its upper end (the edge of the Beta's support)
        "Uniform": lambda: d.Uniform(t(loc), t(np.add(loc, b) + 0.1 * variant)),
        "Exponential": lambda: d.Exponential(t(a)),
        "Laplace": lambda: d.Laplace(t(loc), t(b)),
        "Poisson": lambda: d.Poisson(t(a)),
        "Binomial": lambda: d.Binomial(5, t(p)),
        "Gamma": lambda: d.Gamma(t(a), t(b)),
        "Beta": lambda: d.Beta(t(a), t(b)),
        "MultivariateNormal": lambda: d.MultivariateNormal(t(loc), t(np.diag(a) + 0.3)),
        "Independent": lambda: d.Independent(d.Normal(t(loc), t(a)), 1),
        "Dirichlet": lambda: d.Dirichlet(t([a, b])),
        "Geometric": lambda: d.Geometric(t(p)),
        "Cauchy": lambda: d.Cauchy(t(loc), t(a)),
        "HalfNormal": lambda: d.HalfNormal(t(a)),
        "LogNormal": lambda: d.LogNormal(t(loc), t(a)),
        "TransformedDistribution": lambda: d.TransformedDistribution(
            d.Normal(t(loc), t(a)), [d.transforms.ExpTransform()]),
        "ContinuousBernoulli": lambda: d.ContinuousBernoulli(t(p)),
        "Gumbel": lambda: d.Gumbel(t(loc), t(a)),
        "Pareto": lambda: d.Pareto(t(a), t(b)),
        "LowRankMultivariateNormal": lambda: d.LowRankMultivariateNormal(
            t(loc), t(np.outer(a, [1.0, 0.5])), t(b)),
    }
    return make[name]()


KL_PAIRS = sorted({(p.__name__, q.__name__) for p, q in TORCH_KL_REGISTRY
                   if p.__name__ != "ExponentialFamily"})
@pytest.mark.parametrize("pair", KL_PAIRS, ids=lambda pq: "-".join(pq))
def test_kl_values_every_registered_pair(pair):
    for dtype in DTYPES:
        for vp in (0, 1):
            for vq in (0, 1):
                _both(lambda lib, d, dtype=dtype, vp=vp, vq=vq: d.kl_divergence(
                    _kl_family(pair[0], lib, dtype, vp), _kl_family(pair[1], lib, dtype, vq)),
                      rtol=1e-4 if dtype == "float32" else 1e-8, atol=1e-5)


@pytest.mark.parametrize("pair", KL_PAIRS, ids=lambda pq: "-".join(pq))
def test_kl_gradients_every_registered_pair(pair):
    def grads(lib, d):
        leaves = []
        kl = d.kl_divergence(_kl_family(pair[0], lib, "float64", 0, leaves),
                             _kl_family(pair[1], lib, "float64", 1, leaves))
        return _grads(lib, kl, leaves)
    _both(grads, rtol=1e-7, atol=1e-9)


def test_kl_registry_covers_torch_and_uniform_beta_edge():
    ours = {(p.__name__, q.__name__) for p, q in D.kl._KL_REGISTRY}
    assert set(KL_PAIRS) <= ours
    # Uniform ending at 1: x log x at 0 is 0 (xlogy), not NaN
    _both(lambda lib, d: d.kl_divergence(d.Uniform(_tensor(lib, [0.3, 0.0]),
                                                   _tensor(lib, [1.0, 1.0])),
                                         d.Beta(_tensor(lib, [2.0, 0.5]),
                                                _tensor(lib, [1.5, 3.0]))))
    _both(lambda lib, d: d.kl_divergence(d.Uniform(_tensor(lib, [0.0]), _tensor(lib, [0.5])),
                                         d.ContinuousBernoulli(_tensor(lib, [0.3]))))
    _both(lambda lib, d: d.kl_divergence(d.Normal(0.0, 1.0),
                                         d.Categorical(_tensor(lib, [0.5, 0.5]))))


# ------------------------------------------------------------------ transforms
RNG = np.random.default_rng(3)
TX = RNG.standard_normal((2, 4))
TPOS = np.abs(RNG.standard_normal((2, 4))) + 0.1
TUNIT = RNG.uniform(0.05, 0.95, (2, 4))
TRANSFORMS = {
    "exp": (lambda d, t: d.transforms.ExpTransform(), TX),
    "affine": (lambda d, t: d.transforms.AffineTransform(1.5, -2.0), TX),
    "affine_tensors": (lambda d, t: d.transforms.AffineTransform(
        t([1.0, 2, 3, 4]), t([1.0, -2, 3, 0.5]), event_dim=1), TX),
    "affine_event_dim_number": (lambda d, t: d.transforms.AffineTransform(0.0, 2.0, event_dim=1),
                                TX),
    "affine_event_dim_2": (lambda d, t: d.transforms.AffineTransform(
        0.0, t([1.0, 2, 3, 4]), event_dim=2), TX),
    "sigmoid": (lambda d, t: d.transforms.SigmoidTransform(), TX),
    "tanh": (lambda d, t: d.transforms.TanhTransform(), TX),
    "softplus": (lambda d, t: d.transforms.SoftplusTransform(), TX),
    "abs": (lambda d, t: d.transforms.AbsTransform(), TX),
    "power": (lambda d, t: d.transforms.PowerTransform(2.5), TPOS),
    "power_tensor": (lambda d, t: d.transforms.PowerTransform(t(-1.5)), TPOS),
    "power_broadcast": (lambda d, t: d.transforms.PowerTransform(t([[1.0], [2.0]])), TPOS),
    "softmax": (lambda d, t: d.transforms.SoftmaxTransform(), TX),
    "stick_breaking": (lambda d, t: d.transforms.StickBreakingTransform(), TX),
    "compose": (lambda d, t: d.transforms.ComposeTransform(
        [d.transforms.AffineTransform(0.0, 2.0), d.transforms.ExpTransform()]), TX),
    "compose_event_dims": (lambda d, t: d.transforms.ComposeTransform(
        [d.transforms.ExpTransform(), d.transforms.StickBreakingTransform()]), TX),
    "compose_empty": (lambda d, t: d.transforms.ComposeTransform([]), TX),
    "inverse_exp": (lambda d, t: d.transforms.ExpTransform().inv, TPOS),
    "inverse_sigmoid": (lambda d, t: d.transforms.SigmoidTransform().inv, TUNIT),
    "independent": (lambda d, t: d.transforms.IndependentTransform(
        d.transforms.ExpTransform(), 1), TX),
    "reshape": (lambda d, t: d.transforms.ReshapeTransform((4,), (2, 2)), TX),
    "corr_cholesky": (lambda d, t: d.transforms.CorrCholeskyTransform(),
                      RNG.standard_normal((2, 3))),
    "lower_cholesky": (lambda d, t: d.transforms.LowerCholeskyTransform(),
                       RNG.standard_normal((2, 3, 3))),
    "positive_definite": (lambda d, t: d.transforms.PositiveDefiniteTransform(),
                          np.tril(RNG.standard_normal((2, 3, 3)))),
    "cat": (lambda d, t: d.transforms.CatTransform(
        [d.transforms.ExpTransform(), d.transforms.AffineTransform(0.0, 2.0)], dim=1,
        lengths=[2, 2]), TX),
    "stack": (lambda d, t: d.transforms.StackTransform(
        [d.transforms.ExpTransform(), d.transforms.SigmoidTransform()], dim=0), TX),
    "cdf": (lambda d, t: d.transforms.CumulativeDistributionTransform(d.Normal(0.0, 1.0)), TX),
}


def _transform(name, lib, dtype="float64"):
    return TRANSFORMS[name][0](DISTS[lib], lambda v: _tensor(lib, v, dtype))


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_transform_forward_inverse_jacobian_and_metadata(name):
    x_in = TRANSFORMS[name][1]
    for dtype in DTYPES:
        def run(lib, d, dtype=dtype):
            t = _transform(name, lib, dtype)
            x = _tensor(lib, x_in, dtype)
            y = t(x)
            return y, t.inv(y), t.log_abs_det_jacobian(x, y)
        _both(run, rtol=1e-4 if dtype == "float32" else 1e-8, atol=1e-5)
        _both(lambda lib, d, dtype=dtype: tuple(_transform(name, lib, dtype).forward_shape(
            (2, 4))))
        _both(lambda lib, d, dtype=dtype: tuple(_transform(name, lib, dtype).inverse_shape(
            (2, 4))))
    for attr in ["domain.event_dim", "codomain.event_dim", "bijective", "event_dim"]:
        _both(lambda lib, d, attr=attr: eval("t." + attr, {"t": _transform(name, lib)}))
    _both(lambda lib, d: (type(_transform(name, lib).domain).__name__,
                          type(_transform(name, lib).codomain).__name__))

    def sign(lib, d):
        s = _transform(name, lib).sign
        return float(s) if isinstance(s, (torch.Tensor, ember.Tensor)) and s.numel() == 1 else s
    _both(sign)

    def grads(lib, d):
        x = _tensor(lib, x_in, "float64", grad=True)
        t = _transform(name, lib)
        y = t(x)
        out = y.sin().sum() + t.log_abs_det_jacobian(x, y).sum()
        return lib.autograd.grad(out, [x])[0]
    _both(grads, rtol=1e-7, atol=1e-9)


EDGE_INPUTS = {
    "sigmoid": [-100.0, -30.0, 0.0, 30.0, 100.0],
    "tanh": [-30.0, -5.0, 0.0, 5.0, 30.0],
    "softplus": [-100.0, -30.0, 0.0, 30.0, 100.0],
    "exp": [-100.0, 0.0, 100.0],
    "stick_breaking": [[-30.0, 0.0, 30.0]],
    "softmax": [[-30.0, 0.0, 30.0]],
}


@pytest.mark.parametrize("name", sorted(EDGE_INPUTS))
@pytest.mark.parametrize("dtype", DTYPES)
def test_transform_saturating_inputs(name, dtype):
    def run(lib, d):
        t = _transform(name, lib, dtype)
        x = _tensor(lib, EDGE_INPUTS[name], dtype)
        y = t(x)
        return y, t.log_abs_det_jacobian(x, y), t.inv(y)
    _both(run, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("name,values", [
    ("sigmoid", [0.0, 1e-30, 0.5, 1.0]), ("tanh", [-1.0, -0.999999, 0.0, 1.0]),
    ("exp", [0.0, 1e-30, 1.0]), ("stick_breaking", [[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]]),
    ("softmax", [[0.2, 0.3, 0.5]])])
@pytest.mark.parametrize("dtype", DTYPES)
def test_transform_inverse_at_the_codomain_edges(name, values, dtype):
    _both(lambda lib, d: _transform(name, lib, dtype).inv(_tensor(lib, values, dtype)))


def test_transform_equality_sign_and_shapes():
    """AffineTransform/PowerTransform compare by parameters (were identity-compared); a
    transform without a monotone sign raises NotImplementedError as torch (was +1);
    PowerTransform broadcasts the shape with its exponent."""
    tr = "transforms"
    cases = [
        lambda l, d: getattr(d, tr).AffineTransform(0.0, 1.0) == getattr(d, tr).AffineTransform(
            0.0, 1.0),
        lambda l, d: getattr(d, tr).AffineTransform(0.0, 1.0) == getattr(d, tr).AffineTransform(
            0.0, 2.0),
        lambda l, d: getattr(d, tr).AffineTransform(_tensor(l, [0.0, 1.0]), 1.0)
        == getattr(d, tr).AffineTransform(_tensor(l, [0.0, 1.0]), 1.0),
        lambda l, d: getattr(d, tr).AffineTransform(0.0, 1.0) == getattr(d, tr).ExpTransform(),
        lambda l, d: getattr(d, tr).PowerTransform(2.0) == getattr(d, tr).PowerTransform(2.0),
        lambda l, d: getattr(d, tr).PowerTransform(2.0) == getattr(d, tr).PowerTransform(3.0),
        lambda l, d: getattr(d, tr).PowerTransform(2.0) != getattr(d, tr).PowerTransform(2.0),
        lambda l, d: getattr(d, tr).ExpTransform() == getattr(d, tr).ExpTransform(),
        lambda l, d: getattr(d, tr).ExpTransform().inv.inv == getattr(d, tr).ExpTransform(),
        lambda l, d: getattr(d, tr).ExpTransform().inv == getattr(d, tr).ExpTransform().inv,
        lambda l, d: tuple(getattr(d, tr).PowerTransform(_tensor(l, [1.0, 2.0, 3.0]))
                           .forward_shape((2, 1))),
        lambda l, d: tuple(getattr(d, tr).PowerTransform(_tensor(l, [1.0, 2.0, 3.0]))
                           .inverse_shape((2, 1))),
        lambda l, d: getattr(d, tr).AbsTransform().sign,
        lambda l, d: getattr(d, tr).SoftmaxTransform().sign,
        lambda l, d: getattr(d, tr).ComposeTransform([]).sign,
        lambda l, d: getattr(d, tr).ComposeTransform([getattr(d, tr).ExpTransform(),
                                                      getattr(d, tr).AbsTransform()]).sign,
        lambda l, d: getattr(d, tr).ExpTransform(cache_size=2),
        lambda l, d: getattr(d, tr).ExpTransform(cache_size=1).with_cache(0)._cache_size,
        lambda l, d: getattr(d, tr).ReshapeTransform((4,), (3,)),
        lambda l, d: repr(getattr(d, tr).ComposeTransform([getattr(d, tr).ExpTransform()])),
    ]
    for case in cases:
        _both(case)


def test_transformed_distribution_with_a_decreasing_affine():
    """cdf/icdf of a distribution pushed through a decreasing map flip around 1/2."""
    def build(lib, d):
        return d.TransformedDistribution(d.Normal(_tensor(lib, LOC), _tensor(lib, POS)),
                                         [d.transforms.AffineTransform(1.0, -2.0)])
    _both(lambda lib, d: build(lib, d).cdf(_tensor(lib, [0.3, -1.0, 2.0])))
    _both(lambda lib, d: build(lib, d).icdf(_tensor(lib, [0.3, 0.5, 0.9])))
    _both(lambda lib, d: build(lib, d).log_prob(_tensor(lib, [0.3, -1.0, 2.0])))
    _both(lambda lib, d: d.TransformedDistribution(
        d.Normal(0.0, 1.0), [d.transforms.AbsTransform()]).cdf(_tensor(lib, [0.5])))


# ------------------------------------------------------------------ constraints
CONSTRAINT_INPUTS = [np.array([[-1.0, 0.0, -0.0, 0.5], [1.0, 2.0, np.inf, np.nan]]),
                     np.array([[0, 1, 2, -3]]), np.array([[True, False, True, True]])]
CONSTRAINTS = [("real", ()), ("positive", ()), ("nonnegative", ()), ("unit_interval", ()),
               ("boolean", ()), ("nonnegative_integer", ()), ("positive_integer", ()),
               ("simplex", ()), ("integer_interval", (0, 1)), ("interval", (-1.0, 0.5)),
               ("greater_than", (0.0,)), ("greater_than_eq", (0.0,)), ("less_than", (1.0,)),
               ("half_open_interval", (-1.0, 1.0)), ("real_vector", ()),
               ("multinomial", (3,)), ("one_hot", ())]


@pytest.mark.parametrize("name,args", CONSTRAINTS, ids=[c[0] for c in CONSTRAINTS])
def test_constraint_check_edges_and_metadata(name, args):
    for values in CONSTRAINT_INPUTS:
        def check(lib, d, values=values):
            c = getattr(d.constraints, name)
            c = c(*args) if args else c
            return c.check(lib.tensor(values))
        _both(check)

    def meta(lib, d):
        c = getattr(d.constraints, name)
        c = c(*args) if args else c
        return c.is_discrete, c.event_dim, repr(c)
    _both(meta)


def test_matrix_and_structured_constraints():
    a = RNG.standard_normal((2, 3, 3))
    spd = a @ a.transpose(0, 2, 1) + np.eye(3)
    corr = np.linalg.cholesky(spd / np.sqrt(np.einsum("bii,bjj->bij", spd, spd)))
    inputs = [spd, np.tril(a), a, corr, np.zeros((2, 3, 3)), np.ones((2, 3, 2))]
    for name in ["positive_definite", "positive_semidefinite", "lower_cholesky",
                 "lower_triangular", "symmetric", "square", "corr_cholesky"]:
        for x in inputs:
            _both(lambda lib, d, name=name, x=x: getattr(d.constraints, name).check(
                lib.tensor(x)))
        _both(lambda lib, d, name=name: (getattr(d.constraints, name).event_dim,
                                         getattr(d.constraints, name).is_discrete))
    x = np.array([[0.5, -1.0, 3.0], [2.0, 0.1, -0.2]])
    _both(lambda lib, d: d.constraints.cat([d.constraints.positive, d.constraints.real],
                                           dim=1, lengths=[1, 2]).check(lib.tensor(x)))
    _both(lambda lib, d: d.constraints.stack([d.constraints.positive, d.constraints.real],
                                             dim=0).check(lib.tensor(x)))
    _both(lambda lib, d: d.constraints.independent(d.constraints.positive, 1).check(
        lib.tensor(x)))
    _both(lambda lib, d: d.constraints.independent(d.constraints.positive, 2).event_dim)


# ------------------------------------------------------------------ validation and errors
def f32(lib, values):
    return _tensor(lib, values, "float32")


ERROR_CASES = {
    "normal_negative_scale": lambda l, d: d.Normal(0.0, -1.0),
    "normal_negative_scale_tensor": lambda l, d: d.Normal(f32(l, [0, 1]), f32(l, [1, -1])),
    "normal_nan_loc": lambda l, d: d.Normal(f32(l, [math.nan]), f32(l, [1.0])),
    "normal_zero_scale": lambda l, d: d.Normal(0.0, 0.0),
    "bernoulli_probs_and_logits": lambda l, d: d.Bernoulli(probs=0.3, logits=0.1),
    "bernoulli_neither": lambda l, d: d.Bernoulli(),
    "bernoulli_probs_above_one": lambda l, d: d.Bernoulli(probs=f32(l, [1.5])),
    "categorical_neither": lambda l, d: d.Categorical(),
    "categorical_negative_probs": lambda l, d: d.Categorical(probs=f32(l, [-0.1, 1.0])),
    "categorical_0d_probs": lambda l, d: d.Categorical(probs=f32(l, 1.0)),
    "categorical_0d_logits": lambda l, d: d.Categorical(logits=f32(l, 1.0)),
    "categorical_normalises_probs": lambda l, d: d.Categorical(probs=f32(l, [2.0, 2.0])).probs,
    "categorical_normalises_logits": lambda l, d: d.Categorical(logits=f32(l, [2.0, 3.0])).logits,
    "uniform_low_above_high": lambda l, d: d.Uniform(1.0, 0.0),
    "uniform_empty": lambda l, d: d.Uniform(1.0, 1.0),
    "gamma_zero_shape": lambda l, d: d.Gamma(0.0, 1.0),
    "beta_negative": lambda l, d: d.Beta(-1.0, 1.0),
    "dirichlet_0d": lambda l, d: d.Dirichlet(f32(l, 1.0)),
    "dirichlet_negative": lambda l, d: d.Dirichlet(f32(l, [1.0, -1.0])),
    "mvn_no_matrix": lambda l, d: d.MultivariateNormal(f32(l, [0, 0])),
    "mvn_two_matrices": lambda l, d: d.MultivariateNormal(f32(l, [0, 0]), l.eye(2),
                                                          precision_matrix=l.eye(2)),
    "mvn_0d_loc": lambda l, d: d.MultivariateNormal(f32(l, 0.0), l.eye(2)),
    "mvn_not_positive_definite": lambda l, d: d.MultivariateNormal(
        f32(l, [0, 0]), f32(l, [[1.0, 2.0], [2.0, 1.0]])),
    "mvn_not_symmetric": lambda l, d: d.MultivariateNormal(
        f32(l, [0, 0]), f32(l, [[1.0, 0.5], [0.0, 1.0]])),
    "mvn_vector_cov": lambda l, d: d.MultivariateNormal(f32(l, [0, 0]), f32(l, [1, 1])),
    "mvn_bad_scale_tril": lambda l, d: d.MultivariateNormal(
        f32(l, [0, 0]), scale_tril=f32(l, [[1.0, 0.0], [1.0, -1.0]])),
    "binomial_negative_count": lambda l, d: d.Binomial(-1, probs=0.5),
    "binomial_fractional_count": lambda l, d: d.Binomial(f32(l, [1.5]), probs=f32(l, [0.5])),
    "multinomial_log_prob_wrong_total": lambda l, d: d.Multinomial(
        probs=f32(l, [0.5, 0.5])).log_prob(f32(l, [1.0, 2.0])),
    "poisson_negative": lambda l, d: d.Poisson(-1.0),
    "geometric_zero": lambda l, d: d.Geometric(0.0),
    "geometric_one_mean": lambda l, d: d.Geometric(1.0).mean,
    "lowrank_vector_factor": lambda l, d: d.LowRankMultivariateNormal(
        f32(l, [0, 0]), f32(l, [1, 1]), f32(l, [1, 1])),
    "lowrank_wrong_rows": lambda l, d: d.LowRankMultivariateNormal(
        f32(l, [0, 0]), f32(l, [[1.0], [1.0], [1.0]]), f32(l, [1, 1])),
    "independent_too_many_dims": lambda l, d: d.Independent(d.Normal(f32(l, [0.0]), 1.0), 2),
    "mixture_not_categorical": lambda l, d: d.MixtureSameFamily(
        d.Normal(0.0, 1.0), d.Normal(f32(l, [0, 1]), 1.0)),
    "mixture_size_mismatch": lambda l, d: d.MixtureSameFamily(
        d.Categorical(f32(l, [0.5, 0.5])), d.Normal(f32(l, [0, 1, 2]), 1.0)),
    "mixture_component_not_a_distribution": lambda l, d: d.MixtureSameFamily(
        d.Categorical(f32(l, [0.5, 0.5])), 3),
    "von_mises_negative": lambda l, d: d.VonMises(0.0, -1.0),
    "student_t_negative": lambda l, d: d.StudentT(-1.0),
    "lkj_dim_one": lambda l, d: d.LKJCholesky(1, 1.0),
    "lkj_negative": lambda l, d: d.LKJCholesky(3, -1.0),
    "wishart_small_df": lambda l, d: d.Wishart(f32(l, 1.0), l.eye(3)),
    "set_default_validate_args_not_bool": lambda l, d: d.Distribution.set_default_validate_args(
        1.5),
    "log_prob_of_a_number": lambda l, d: d.Normal(0.0, 1.0).log_prob(0.5),
    "log_prob_wrong_shape": lambda l, d: d.Normal(f32(l, [0, 1]), 1.0).log_prob(f32(l, [0, 1, 2])),
    "log_prob_outside_support": lambda l, d: d.Exponential(1.0).log_prob(f32(l, -1.0)),
    "categorical_index_too_big": lambda l, d: d.Categorical(f32(l, [0.5, 0.5])).log_prob(
        f32(l, 2.0)),
    "categorical_fractional_index": lambda l, d: d.Categorical(f32(l, [0.5, 0.5])).log_prob(
        f32(l, 0.5)),
    "categorical_long_index": lambda l, d: d.Categorical(f32(l, [[0.5, 0.5], [0.2, 0.8]]))
    .log_prob(l.tensor([1, 0])),
    "categorical_broadcast_index": lambda l, d: d.Categorical(f32(l, [[0.5, 0.5], [0.2, 0.8]]))
    .log_prob(l.tensor([[1], [0], [1]])),
    "bernoulli_integer_value": lambda l, d: d.Bernoulli(f32(l, [0.5, 0.2])).log_prob(
        l.tensor([1, 0])),
    "normal_integer_value": lambda l, d: d.Normal(f32(l, [0.5, 0.2]), 1.0).log_prob(
        l.tensor([1, 0])),
    "normal_float64_value": lambda l, d: d.Normal(f32(l, [0.5, 0.2]), 1.0).log_prob(
        l.tensor([1.0, 0.0], dtype=l.float64)),
    "normal_numbers_float64_value": lambda l, d: d.Normal(0.0, 1.0).log_prob(
        l.tensor([1.0, 0.0], dtype=l.float64)),
    "normal_integer_params": lambda l, d: d.Normal(l.tensor([1, 2]), l.tensor([1, 2])).mean,
    "normal_float16": lambda l, d: d.Normal(l.tensor([1.0, 2.0], dtype=l.float16), 1.0)
    .log_prob(l.tensor([0.0, 1.0], dtype=l.float16)),
    "normal_float16_entropy": lambda l, d: d.Normal(l.tensor([1.0, 2.0], dtype=l.float16),
                                                    1.0).entropy(),
    "normal_mixed_dtypes": lambda l, d: d.Normal(f32(l, [1, 2]),
                                                 l.tensor([1.0, 2.0], dtype=l.float64)).mean,
    "dirichlet_value_off_simplex": lambda l, d: d.Dirichlet(f32(l, [1, 1])).log_prob(
        f32(l, [0.5, 0.6])),
    "mvn_value_wrong_event": lambda l, d: d.MultivariateNormal(f32(l, [0, 0]), l.eye(2))
    .log_prob(f32(l, [0, 0, 0])),
    "one_hot_value_not_one_hot": lambda l, d: d.OneHotCategorical(f32(l, [0.5, 0.5])).log_prob(
        f32(l, [1, 1])),
    "icdf_above_one": lambda l, d: d.Normal(0.0, 1.0).icdf(f32(l, 1.5)),
    "cdf_outside_support": lambda l, d: d.Exponential(1.0).cdf(f32(l, -1.0)),
    "uniform_cdf_unvalidated": lambda l, d: d.Uniform(0.0, 1.0, validate_args=False).cdf(
        f32(l, [-1.0, 2.0])),
    "uniform_log_prob_unvalidated": lambda l, d: d.Uniform(0.0, 1.0, validate_args=False)
    .log_prob(f32(l, [-1.0, 2.0, 1.0, 0.0])),
    "exponential_cdf_unvalidated": lambda l, d: d.Exponential(1.0, validate_args=False).cdf(
        f32(l, [-1.0, 0.0])),
    "sample_int_shape": lambda l, d: d.Normal(0.0, 1.0).sample(3),
    "sample_size_shape": lambda l, d: d.Normal(0.0, 1.0).sample(l.Size([3, 2])).shape,
    "categorical_sample_dtype": lambda l, d: _dtype_name(d.Categorical(f32(l, [0.5, 0.5]))
                                                         .sample()),
    "poisson_sample_dtype": lambda l, d: _dtype_name(d.Poisson(f32(l, [0.5, 0.5])).sample()),
    "expand_incompatible": lambda l, d: d.Normal(f32(l, [0, 1]), 1.0).expand((3,)),
    "expand_size": lambda l, d: d.Normal(f32(l, [0, 1]), 1.0).expand(l.Size([3, 2])).batch_shape,
    "categorical_expand": lambda l, d: d.Categorical(f32(l, [0.5, 0.5])).expand((3,)).batch_shape,
    "independent_expand": lambda l, d: d.Independent(d.Normal(f32(l, [0, 1]), 1.0), 1)
    .expand((3,)).batch_shape,
    "independent_expand_wrong": lambda l, d: d.Independent(d.Normal(f32(l, [0, 1]), 1.0), 1)
    .expand((3, 2)).batch_shape,
    "repr_normal_numbers": lambda l, d: repr(d.Normal(0.0, 1.0)),
    "repr_constraints": lambda l, d: (repr(d.constraints.interval(0.0, 1.0)),
                                      repr(d.constraints.positive),
                                      repr(d.constraints.independent(d.constraints.real, 1)),
                                      repr(d.constraints.integer_interval(0, 3))),
    "repr_transforms": lambda l, d: (repr(d.transforms.ExpTransform()),
                                     repr(d.transforms.AffineTransform(0.0, 1.0)),
                                     repr(d.transforms.ExpTransform().inv)),
    "mixture_entropy_not_implemented": lambda l, d: d.MixtureSameFamily(
        d.Categorical(f32(l, [0.5, 0.5])), d.Normal(f32(l, [0, 1]), 1.0)).entropy(),
    "mixture_cdf": lambda l, d: d.MixtureSameFamily(
        d.Categorical(f32(l, [0.5, 0.5])), d.Normal(f32(l, [0, 1]), 1.0)).cdf(f32(l, [0.3, -1])),
    "mixture_mvn_variance": lambda l, d: d.MixtureSameFamily(
        d.Categorical(f32(l, [0.5, 0.5])),
        d.MultivariateNormal(f32(l, [[0, 1], [2, 1]]), l.eye(2))).variance,
    "mixture_mvn_sample_shape": lambda l, d: d.MixtureSameFamily(
        d.Categorical(f32(l, [0.5, 0.5])),
        d.MultivariateNormal(f32(l, [[0, 1], [2, 1]]), l.eye(2))).sample((3,)).shape,
}


@pytest.mark.parametrize("name", sorted(ERROR_CASES))
def test_validation_errors_and_api_edges(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _both(ERROR_CASES[name])


def test_invalid_parameter_message_names_parameter_and_constraint():
    with pytest.raises(ValueError) as expected:
        TD.Normal(torch.tensor([0.0]), torch.tensor([-1.0]))
    with pytest.raises(ValueError) as actual:
        D.Normal(ember.tensor([0.0]), ember.tensor([-1.0]))
    head = str(expected.value).split(" of distribution")[0]
    assert str(actual.value).startswith(head)
    assert "GreaterThan(lower_bound=0.0)" in str(actual.value)
    with pytest.raises(ValueError, match="Expected value argument"):
        D.Exponential(1.0).log_prob(ember.tensor(-1.0))


@pytest.mark.parametrize("flag", [True, False])
def test_set_default_validate_args_switches_checking(flag):
    cases = [lambda l, d: d.Normal(0.0, -1.0).scale,
             lambda l, d: d.Exponential(1.0).log_prob(l.tensor(-1.0)),
             lambda l, d: d.Categorical(_tensor(l, [0.5, 0.5])).log_prob(l.tensor(2)),
             lambda l, d: d.Normal(0.0, -1.0, validate_args=not flag).scale,
             lambda l, d: d.Beta(2.0, 2.0, validate_args=not flag).log_prob(l.tensor(1.5)),
             lambda l, d: d.Normal(l.zeros(2), 1.0).log_prob(l.zeros(3))]
    old = D.Distribution._validate_args, TD.Distribution._validate_args
    try:
        D.Distribution.set_default_validate_args(flag)
        TD.Distribution.set_default_validate_args(flag)
        for case in cases:
            _both(case)
    finally:
        D.Distribution.set_default_validate_args(old[0])
        TD.Distribution.set_default_validate_args(old[1])


# ------------------------------------------------------------------ Independent, mixtures
def test_independent_and_mixture_shapes_and_values():
    value = RNG.standard_normal((5, 2, 3, 4))

    def indep(lib, d):
        base = d.Normal(_tensor(lib, np.zeros((2, 3, 4))), _tensor(lib, np.ones((2, 3, 4))))
        i = d.Independent(base, 2)
        v = _tensor(lib, value)
        return (i.batch_shape, i.event_shape, i.log_prob(v), i.entropy(), i.mean, i.variance,
                i.support.event_dim, i.has_rsample, i.has_enumerate_support)
    _both(indep)

    def indep_discrete(lib, d):
        i = d.Independent(d.Bernoulli(_tensor(lib, [[0.2, 0.7], [0.5, 0.1]])), 1)
        return i.enumerate_support(), i.support.is_discrete
    _both(indep_discrete)

    loc, scale = RNG.standard_normal((2, 3, 4)), RNG.uniform(0.5, 2, (2, 3, 4))
    value = RNG.standard_normal((6, 2, 4))
    # a mixture's support checks the value against every component (torch's
    # MixtureSameFamilyConstraint; Ember returned the component's own support)
    _both(lambda lib, d: (lambda m: (type(m.support).__name__, repr(m.support),
                                     m.support.check(_tensor(lib, [[0.5], [-1.0], [3.0]]))))(
        d.MixtureSameFamily(d.Categorical(_tensor(lib, [0.5, 0.5])),
                            d.Uniform(_tensor(lib, [0.0, -2.0]), _tensor(lib, [1.0, 2.0])))))

    def mixture(lib, d):
        probs = _tensor(lib, [[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])
        comp = d.Independent(d.Normal(_tensor(lib, loc), _tensor(lib, scale)), 1)
        m = d.MixtureSameFamily(d.Categorical(probs), comp)
        return (m.batch_shape, m.event_shape, m.log_prob(_tensor(lib, value)), m.mean,
                m.variance, m.sample((7,)).shape, m.has_rsample)
    _both(mixture)


def test_lazy_probs_logits_at_the_edges():
    for probs in ([0.0, 0.5, 1.0], [1e-8, 1 - 1e-7, 0.3]):
        for dtype in DTYPES:
            _both(lambda lib, d, p=probs, dt=dtype: d.Bernoulli(_tensor(lib, p, dt)).logits)
            _both(lambda lib, d, p=probs, dt=dtype: d.Bernoulli(_tensor(lib, p, dt)).entropy())
            _both(lambda lib, d, p=probs, dt=dtype: d.Geometric(
                _tensor(lib, p, dt) * 0.5 + 0.5).entropy())
    for logits in ([-100.0, 0.0, 100.0], [-math.inf, 0.0, 3.0]):
        _both(lambda lib, d, lg=logits: d.Bernoulli(logits=_tensor(lib, lg)).probs)
        _both(lambda lib, d, lg=logits: d.Categorical(logits=_tensor(lib, lg)).probs)
        _both(lambda lib, d, lg=logits: d.Categorical(logits=_tensor(lib, lg)).entropy())
        _both(lambda lib, d, lg=logits: d.OneHotCategorical(logits=_tensor(lib, lg)).entropy())
    _both(lambda lib, d: d.Categorical(_tensor(lib, [[0.0, 1.0], [0.3, 0.7]])).entropy())
    _both(lambda lib, d: d.Binomial(3, _tensor(lib, [0.0, 1.0])).entropy())
    _both(lambda lib, d: d.Poisson(_tensor(lib, [0.0, 2.0])).log_prob(_tensor(lib, [0.0, 0.0])))


@pytest.mark.parametrize("attr", ["mean", "variance"])
def test_pareto_moment_gradients_where_the_moment_is_infinite(attr):
    """alpha <= 1 (2): the mean (variance) is inf and torch's gradient there is 0."""
    def grads(lib, d):
        alpha = _tensor(lib, [0.7, 1.5, 3.0], "float64", grad=True)
        return lib.autograd.grad(getattr(d.Pareto(_tensor(lib, [1.0, 2.0, 0.5], "float64"),
                                                  alpha), attr).sum(), [alpha])[0]
    _both(grads)



# ------------------------------------------------------------------ moments, modes, matrices
def _t(lib, values, dtype="float32"):
    return _tensor(lib, values, dtype)


I3 = np.eye(3)
# ContinuousBernoulli at probs 0.499 in float32 is left out: just outside the Taylor window
# both libraries' moments are float32 cancellations (torch: variance -1.6) and differ
MOMENT_CASES = {
    "lkj_props": lambda l, d: (
        d.LKJCholesky(3, _t(l, [0.5, 2.0])).batch_shape,
        d.LKJCholesky(3, 0.5).event_shape,
    ),
    "lkj_lp": lambda l, d: d.LKJCholesky(3, _t(l, [0.5, 2.0])).log_prob(_t(l, I3)),
    "lkj_lp64": lambda l, d: d.LKJCholesky(3, _t(l, [0.5, 2.0], "float64")).log_prob(
        _t(l, I3, "float64")
    ),
    "lkj_sample": lambda l, d: tuple(d.LKJCholesky(3, _t(l, [0.5, 2.0])).sample((4,)).shape),
    "wishart_mean": lambda l, d: d.Wishart(_t(l, 4.0), _t(l, I3 * 2)).mean,
    "wishart_mode": lambda l, d: d.Wishart(_t(l, 4.0), _t(l, I3 * 2)).mode,
    "wishart_var": lambda l, d: d.Wishart(_t(l, 4.0), _t(l, I3 * 2)).variance,
    "wishart_ent": lambda l, d: d.Wishart(_t(l, 4.0), _t(l, I3 * 2)).entropy(),
    "wishart_lp": lambda l, d: d.Wishart(_t(l, 4.0), _t(l, I3 * 2)).log_prob(_t(l, I3)),
    "wishart_mode_small": lambda l, d: d.Wishart(_t(l, 2.5), _t(l, I3 * 2)).mode,
    "logisticnormal": lambda l, d: d.LogisticNormal(_t(l, [0.0, 1.0]), _t(l, [1.0, 2.0])).log_prob(
        _t(l, [0.2, 0.3, 0.5])
    ),
    "logisticnormal_sh": lambda l, d: (
        d.LogisticNormal(_t(l, [0.0, 1.0]), _t(l, [1.0, 2.0])).event_shape,
        tuple(d.LogisticNormal(_t(l, [0.0, 1.0]), _t(l, [1.0, 2.0])).sample((2,)).shape),
    ),
    "multinom_zero_p": lambda l, d: d.Multinomial(3, _t(l, [0.0, 0.5, 0.5])).log_prob(
        _t(l, [0.0, 1.0, 2.0])
    ),
    "multinom_zero_p_bad": lambda l, d: d.Multinomial(3, _t(l, [0.0, 0.5, 0.5])).log_prob(
        _t(l, [1.0, 1.0, 1.0])
    ),
    "multinom_mean": lambda l, d: (
        d.Multinomial(3, _t(l, [0.2, 0.3, 0.5])).mean,
        d.Multinomial(3, _t(l, [0.2, 0.3, 0.5])).variance,
    ),
    "multinom_logits": lambda l, d: d.Multinomial(3, logits=_t(l, [0.2, 0.3, 0.5])).probs,
    "onehot_st": lambda l, d: d.OneHotCategoricalStraightThrough(_t(l, [0.2, 0.3, 0.5])).log_prob(
        _t(l, [0.0, 1.0, 0.0])
    ),
    "onehot_mode": lambda l, d: d.OneHotCategorical(_t(l, [[0.2, 0.5, 0.3], [0.4, 0.4, 0.2]])).mode,
    "cat_mode": lambda l, d: d.Categorical(_t(l, [[0.2, 0.5, 0.3], [0.4, 0.4, 0.2]])).mode,
    "cat_mean": lambda l, d: d.Categorical(_t(l, [[0.2, 0.5, 0.3], [0.4, 0.4, 0.2]])).mean,
    "cat_var": lambda l, d: d.Categorical(_t(l, [[0.2, 0.5, 0.3], [0.4, 0.4, 0.2]])).variance,
    "cat_neg_idx": lambda l, d: d.Categorical(_t(l, [0.2, 0.5, 0.3]), validate_args=False).log_prob(
        l.tensor([-1])
    ),
    "bern_mode": lambda l, d: d.Bernoulli(_t(l, [0.2, 0.5, 0.7])).mode,
    "binom_mode": lambda l, d: d.Binomial(_t(l, [4.0, 5.0, 0.0]), _t(l, [0.2, 0.5, 0.7])).mode,
    "binom_mode1": lambda l, d: d.Binomial(5, _t(l, [0.0, 1.0, 0.5])).mode,
    "geom_mode": lambda l, d: d.Geometric(_t(l, [0.2, 1.0])).mode,
    "poisson_mode": lambda l, d: d.Poisson(_t(l, [0.0, 2.0, 2.5])).mode,
    "negbin_mode": lambda l, d: d.NegativeBinomial(_t(l, [0.5, 2.0]), _t(l, [0.3, 0.6])).mode,
    "gamma_mode": lambda l, d: d.Gamma(_t(l, [0.5, 2.0]), 1.0).mode,
    "chi2_df": lambda l, d: d.Chi2(_t(l, [3.0])).df,
    "studentt_var": lambda l, d: d.StudentT(_t(l, [0.5, 1.5, 2.0, 3.0])).variance,
    "studentt_mean": lambda l, d: d.StudentT(_t(l, [0.5, 1.5, 2.0, 3.0])).mean,
    "fisher_mean": lambda l, d: (
        d.FisherSnedecor(_t(l, [1.0, 3.0]), _t(l, [2.0, 5.0])).mean,
        d.FisherSnedecor(_t(l, [1.0, 3.0]), _t(l, [4.0, 5.0])).variance,
        d.FisherSnedecor(_t(l, [1.0, 3.0]), _t(l, [4.0, 5.0])).mode,
    ),
    "invgamma_mode": lambda l, d: (
        d.InverseGamma(_t(l, [0.5, 3.0]), 1.0).mode,
        d.InverseGamma(_t(l, [0.5, 3.0]), 1.0).mean,
        d.InverseGamma(_t(l, [0.5, 3.0]), 1.0).variance,
    ),
    "weibull_mode": lambda l, d: d.Weibull(1.0, _t(l, [0.5, 1.0, 3.0])).mode,
    "cauchy_mean": lambda l, d: (d.Cauchy(0.0, 1.0).mean, d.Cauchy(0.0, 1.0).variance),
    "hc_props": lambda l, d: (
        d.HalfCauchy(1.0).mean,
        d.HalfCauchy(1.0).mode,
        d.HalfCauchy(1.0).variance,
        d.HalfCauchy(1.0).cdf(_t(l, [0.5])),
        d.HalfCauchy(1.0).icdf(_t(l, [0.5])),
    ),
    "hn_props": lambda l, d: (
        d.HalfNormal(1.0).mean,
        d.HalfNormal(1.0).mode,
        d.HalfNormal(1.0).cdf(_t(l, [0.5])),
        d.HalfNormal(1.0).icdf(_t(l, [0.5])),
        d.HalfNormal(1.0).entropy(),
    ),
    "uniform_mode": lambda l, d: d.Uniform(0.0, 1.0).mode,
    "lowrank_props": lambda l, d: (
        lambda m: (
            m.covariance_matrix,
            m.precision_matrix,
            m.scale_tril,
            m.mode,
            m.variance,
            m.entropy(),
        )
    )(d.LowRankMultivariateNormal(_t(l, [0.0, 1.0]), _t(l, [[1.0], [0.5]]), _t(l, [1.0, 2.0]))),
    "mvn_props": lambda l, d: (
        lambda m: (
            m.covariance_matrix,
            m.precision_matrix,
            m.scale_tril,
            m.mode,
            m.variance,
            m.entropy(),
            m.log_prob(_t(l, [[0.0, 0.0], [1.0, 2.0]])),
        )
    )(d.MultivariateNormal(_t(l, [0.0, 1.0]), precision_matrix=_t(l, [[2.0, 0.5], [0.5, 1.0]]))),
    "mvn_bcast": lambda l, d: (
        lambda m: (m.batch_shape, m.log_prob(_t(l, [[0.0, 0.0], [1.0, 2.0]])))
    )(
        d.MultivariateNormal(
            _t(l, [[0.0, 1.0], [1.0, 1.0], [2.0, 0.0]]), scale_tril=_t(l, [[2.0, 0.0], [0.5, 1.0]])
        )
    ),
    "rb_probs": lambda l, d: (lambda m: (m.probs, m.logits, m.temperature))(
        d.RelaxedBernoulli(_t(l, 0.5), logits=_t(l, [0.2, -1.0]))
    ),
    "rohc": lambda l, d: (
        lambda m: (m.probs, m.logits, m.temperature, m.batch_shape, m.event_shape)
    )(d.RelaxedOneHotCategorical(_t(l, 0.5), logits=_t(l, [0.2, -1.0, 0.0]))),
    "indep0": lambda l, d: d.Independent(d.Normal(_t(l, [0.0, 1.0]), 1.0), 0).log_prob(
        _t(l, [0.0, 1.0])
    ),
    "indep_kl": lambda l, d: d.kl_divergence(
        d.Independent(d.Normal(_t(l, [0.0, 1.0]), 1.0), 1),
        d.Independent(d.Normal(_t(l, [1.0, 1.0]), 2.0), 1),
    ),
    "indep_kl_mismatch": lambda l, d: d.kl_divergence(
        d.Independent(d.Normal(_t(l, [[0.0, 1.0]]), 1.0), 1),
        d.Independent(d.Normal(_t(l, [[1.0, 1.0]]), 2.0), 2),
    ),
    "td_kl_mismatch": lambda l, d: d.kl_divergence(
        d.LogNormal(0.0, 1.0),
        d.TransformedDistribution(d.Normal(0.0, 1.0), [d.transforms.AffineTransform(0.0, 2.0)]),
    ),
    "f16_normal": lambda l, d: (
        lambda m: (
            m.mean,
            m.entropy(),
            m.cdf(_t(l, [0.5], "float16")),
            m.log_prob(_t(l, [0.5], "float16")),
        )
    )(d.Normal(_t(l, [0.0, 1.0], "float16"), _t(l, [1.0, 2.0], "float16"))),
    "f16_exp": lambda l, d: (lambda m: (m.mean, m.log_prob(_t(l, [0.5], "float16"))))(
        d.Exponential(_t(l, [1.0, 2.0], "float16"))
    ),
    "f16_bern": lambda l, d: (
        lambda m: (m.mean, m.logits, m.log_prob(_t(l, [1.0, 0.0], "float16")), m.entropy())
    )(d.Bernoulli(_t(l, [0.3, 0.6], "float16"))),
    "f16_cat": lambda l, d: (lambda m: (m.logits, m.entropy(), m.log_prob(l.tensor([1]))))(
        d.Categorical(_t(l, [0.3, 0.6, 0.1], "float16"))
    ),
}


@pytest.mark.parametrize("name", sorted(MOMENT_CASES))
def test_moments_modes_and_matrix_families(name):
    _both(MOMENT_CASES[name], rtol=1e-4, atol=1e-5)
