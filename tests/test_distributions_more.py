"""The torch.distributions families added after the first batch, against torch: log_prob and
its gradients, entropy, moments, cdf/icdf, KL pairs, transforms and constraint registries;
sample shapes, sample statistics and reparameterised gradients (by their expectations).
"""

import math

import numpy as np
import pytest
import torch
import torch.distributions as TD
from test_distributions import _compare, _spd

import ember
import ember.distributions as D

RNG = np.random.default_rng(1)
LOC = RNG.standard_normal((2, 3))
POS = RNG.uniform(0.5, 2.0, (2, 3))
PROB = RNG.uniform(0.1, 0.9, (2, 3))
X = RNG.standard_normal((2, 3))


@pytest.fixture(autouse=True)
def _torch_float64_default(request):
    """torch's GeneralizedPareto compares against a float32 zero (fails on float64 input)
    unless float64 is the default dtype."""
    if "pareto" not in request.node.name:
        yield
        return
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(old)


def _simplex(shape):
    p = RNG.uniform(0.1, 1.0, shape)
    return p / p.sum(-1, keepdims=True)


def _corr_cholesky(n, batch=()):
    a = RNG.standard_normal(batch + (n, n + 2))
    cov = a @ np.swapaxes(a, -1, -2)
    d = np.sqrt(np.diagonal(cov, axis1=-2, axis2=-1))
    return np.linalg.cholesky(cov / d[..., :, None] / d[..., None, :])


# name -> (constructor(dists, *params), param arrays, value array)
CASES = {
    "weibull": (lambda d, s, k: d.Weibull(s, k), [POS, POS + 0.5], np.abs(X) + 0.1),
    "pareto": (lambda d, s, a: d.Pareto(s, a), [POS, POS + 2.5], POS + np.abs(X) + 0.1),
    "halfcauchy": (lambda d, s: d.HalfCauchy(s), [POS], np.abs(X)),
    "inverse_gamma": (lambda d, c, r: d.InverseGamma(c, r), [POS + 1.5, POS], np.abs(X) + 0.1),
    "kumaraswamy": (lambda d, a, b: d.Kumaraswamy(a, b), [POS + 0.5, POS + 0.2], PROB),
    "negative_binomial": (lambda d, r, p: d.NegativeBinomial(r, probs=p), [POS * 3, PROB],
                          np.floor(np.abs(X) * 3)),
    "negative_binomial_logits": (lambda d, r, lg: d.NegativeBinomial(r, logits=lg),
                                 [POS * 3, LOC], np.floor(np.abs(X) * 3)),
    "fishersnedecor": (lambda d, a, b: d.FisherSnedecor(a, b), [POS * 3, POS * 4 + 5],
                       np.abs(X) + 0.1),
    "generalized_pareto": (lambda d, m, s, c: d.GeneralizedPareto(m, s, c),
                           [LOC, POS, PROB - 0.5], LOC + POS * 0.5 * PROB),
    "vonmises": (lambda d, m, k: d.VonMises(m, k), [LOC, POS * 3], X),
    "continuous_bernoulli": (lambda d, p: d.ContinuousBernoulli(p), [PROB], PROB[::-1]),
    "continuous_bernoulli_taylor": (lambda d, p: d.ContinuousBernoulli(p),
                                    [np.array([0.4995, 0.5, 0.5008, 0.3])],
                                    np.array([0.2, 0.7, 0.5, 0.9])),
    "continuous_bernoulli_logits": (lambda d, lg: d.ContinuousBernoulli(logits=lg), [LOC],
                                    PROB[::-1]),
    "lowrank_mvn": (lambda d, m, w, s: d.LowRankMultivariateNormal(m, w, s),
                    [LOC, RNG.standard_normal((2, 3, 2)), POS], X),
    "lowrank_mvn_bcast": (lambda d, m, w, s: d.LowRankMultivariateNormal(m, w, s),
                          [LOC[0], RNG.standard_normal((2, 3, 1)), POS[0]], X),
    "logistic_normal": (lambda d, m, s: d.LogisticNormal(m, s), [LOC, POS], _simplex((2, 4))),
    "lkj_cholesky": (lambda d, c: d.LKJCholesky(3, c), [POS[:, 0] + 0.3],
                     _corr_cholesky(3, (2,))),
    "wishart_cov": (lambda d, df, c: d.Wishart(df, covariance_matrix=c), [POS[:, 0] + 3,
                                                                         _spd(3, (2,))],
                    _spd(3, (2,))),
    # .tril(): torch's gradient also reaches the (unused) upper triangle of scale_tril
    "wishart_tril": (lambda d, df, c: d.Wishart(df, scale_tril=c.tril()),
                     [POS[:, 0] + 3, np.linalg.cholesky(_spd(3, (2,)))], _spd(3, (2,))),
    "wishart_prec": (lambda d, df, c: d.Wishart(df, precision_matrix=c),
                     [POS[:, 0] + 3, _spd(3)], _spd(3, (2,))),
    "onehot_st": (lambda d, p: d.OneHotCategoricalStraightThrough(probs=p),
                  [RNG.uniform(0.1, 1, (4, 5))], np.eye(5)[[0, 4, 2, 1]]),
}
DISCRETE_VALUE = {"negative_binomial", "negative_binomial_logits", "onehot_st"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_log_prob_values_and_grads(name):
    ctor, params, value = CASES[name]

    def fn(lib, d, *inputs):
        *ps, v = inputs
        if name in DISCRETE_VALUE:
            v = v.detach()
        return ctor(d, *ps).log_prob(v)

    _compare(fn, params + [value], atol=1e-6 if name == "vonmises" else 1e-7)


@pytest.mark.parametrize("name", sorted(CASES))
def test_entropy(name):
    ctor, params, _ = CASES[name]
    _compare(lambda lib, d, *ps: ctor(d, *ps).entropy(), params)


MODE_DIFFERS = {"kumaraswamy"}  # torch's Kumaraswamy.mode is NaN everywhere (see below)


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("prop", ["mean", "variance", "stddev", "mode"])
def test_moments(name, prop):
    if prop == "mode" and name in MODE_DIFFERS:
        return
    ctor, params, _ = CASES[name]
    atol = 1e-6 if name == "vonmises" else 1e-7
    _compare(lambda lib, d, *ps: getattr(ctor(d, *ps), prop) * 1.0, params, atol=atol)


def test_kumaraswamy_mode_is_the_argmax_of_the_density():
    a, b = ember.tensor([2.0, 3.0, 1.5]), ember.tensor([3.0, 2.0, 5.0])
    d = D.Kumaraswamy(a, b)
    grid = ember.linspace(1e-4, 1 - 1e-4, 20001)
    argmax = grid[d.log_prob(grid.unsqueeze(-1)).argmax(0)]
    np.testing.assert_allclose(d.mode.numpy(), argmax.numpy(), atol=1e-3)
    assert math.isnan(D.Kumaraswamy(0.5, 2.0).mode.item())


CDF = {  # name -> values for cdf (icdf gets uniform probabilities)
    "halfcauchy": None, "generalized_pareto": None, "continuous_bernoulli": None,
    "continuous_bernoulli_taylor": None, "weibull": None, "pareto": None,
    "kumaraswamy": None,
}


@pytest.mark.parametrize("name", sorted(CDF))
def test_cdf_icdf(name):
    ctor, params, value = CASES[name]
    _compare(lambda lib, d, *inp: ctor(d, *inp[:-1]).cdf(inp[-1]), params + [value])
    q = RNG.uniform(0.05, 0.95, np.shape(value))
    _compare(lambda lib, d, *inp: ctor(d, *inp[:-1]).icdf(inp[-1]), params + [q])


def test_generalized_pareto_zero_concentration_and_survival():
    for conc in (0.0, -0.3, 0.4):
        def fn(lib, d, m, s, v, conc=conc):
            gp = d.GeneralizedPareto(m, s, conc)
            return gp.log_survival_function(v) + gp.log_cdf(v) + gp.log_prob(v)

        _compare(fn, [LOC, POS, LOC + POS * 0.5 * PROB])
    e = D.GeneralizedPareto(0.0, 1.0, -0.5)
    t = TD.GeneralizedPareto(0.0, 1.0, -0.5)
    assert repr(e.support) == repr(t.support)
    np.testing.assert_allclose(e.support.upper_bound.numpy(), t.support.upper_bound.numpy())


KL_PAIRS = {
    "pareto": (lambda d, a, b, c, e: (d.Pareto(a, b), d.Pareto(c, e)),
               [POS, POS + 1, POS * 0.5, POS + 2]),
    "pareto_inf": (lambda d, a, b, c, e: (d.Pareto(a, b), d.Pareto(c, e)),
                   [POS * 0.5, POS + 1, POS, POS + 2]),
    "gumbel": (lambda d, a, b, c, e: (d.Gumbel(a, b), d.Gumbel(c, e)), [LOC, POS, X, POS[::-1]]),
    "cont_bern": (lambda d, a, b: (d.ContinuousBernoulli(a), d.ContinuousBernoulli(b)),
                  [PROB, PROB[::-1]]),
    "lowrank": (lambda d, a, b, c, e, f, g: (d.LowRankMultivariateNormal(a, b, c),
                                             d.LowRankMultivariateNormal(e, f, g)),
                [LOC, RNG.standard_normal((2, 3, 2)), POS, X, RNG.standard_normal((3, 1)),
                 POS[0] + 0.5]),
    "mvn_lowrank": (lambda d, a, b, e, f, g: (d.MultivariateNormal(a, b),
                                              d.LowRankMultivariateNormal(e, f, g)),
                    [LOC, _spd(3), X, RNG.standard_normal((2, 3, 2)), POS]),
    "lowrank_mvn": (lambda d, a, b, c, e, f: (d.LowRankMultivariateNormal(a, b, c),
                                              d.MultivariateNormal(e, scale_tril=f)),
                    [LOC, RNG.standard_normal((2, 3, 2)), POS, X,
                     np.linalg.cholesky(_spd(3, (2,)))]),
    "wishart_expfamily": (lambda d, a, b, c, e: (d.Wishart(a, covariance_matrix=b),
                                                 d.Wishart(c, covariance_matrix=e)),
                          [POS[:, 0] + 3, _spd(3, (2,)), POS[:, 1] + 4, _spd(3)]),
    "bernoulli_poisson": (lambda d, a, b: (d.Bernoulli(a), d.Poisson(b)), [PROB, POS]),
    "beta_cont_bern": (lambda d, a, b, c: (d.Beta(a, b), d.ContinuousBernoulli(c)),
                       [POS, POS[::-1], PROB]),
    "beta_exponential": (lambda d, a, b, c: (d.Beta(a, b), d.Exponential(c)), [POS, POS, POS]),
    "beta_gamma": (lambda d, a, b, c, e: (d.Beta(a, b), d.Gamma(c, e)), [POS, POS, POS, PROB]),
    "beta_normal": (lambda d, a, b, c, e: (d.Beta(a, b), d.Normal(c, e)), [POS, POS, LOC, POS]),
    "beta_uniform": (lambda d, a, b, c, e: (d.Beta(a, b), d.Uniform(c, e)),
                     [POS, POS, -POS * 0.1 * (LOC > 0), 1 + POS]),
    "beta_pareto": (lambda d, a, b, c, e: (d.Beta(a, b), d.Pareto(c, e)), [POS, POS, POS, POS]),
    "cont_bern_exponential": (lambda d, a, b: (d.ContinuousBernoulli(a), d.Exponential(b)),
                              [PROB, POS]),
    "cont_bern_normal": (lambda d, a, b, c: (d.ContinuousBernoulli(a), d.Normal(b, c)),
                         [PROB, LOC, POS]),
    "cont_bern_uniform": (lambda d, a, b, c: (d.ContinuousBernoulli(a), d.Uniform(b, c)),
                          [PROB, -POS * (LOC > 0), 1 + POS]),
    "exponential_gumbel": (lambda d, a, b, c: (d.Exponential(a), d.Gumbel(b, c)),
                           [POS, LOC, POS]),
    "exponential_normal": (lambda d, a, b, c: (d.Exponential(a), d.Normal(b, c)),
                           [POS, LOC, POS]),
    "exponential_uniform": (lambda d, a, b, c: (d.Exponential(a), d.Uniform(b, c)),
                            [POS, LOC, LOC + 1]),
    "gamma_gumbel": (lambda d, a, b, c, e: (d.Gamma(a, b), d.Gumbel(c, e)), [POS, POS, LOC, POS]),
    "gamma_normal": (lambda d, a, b, c, e: (d.Gamma(a, b), d.Normal(c, e)), [POS, POS, LOC, POS]),
    "gumbel_normal": (lambda d, a, b, c, e: (d.Gumbel(a, b), d.Normal(c, e)),
                      [LOC, POS, X, POS]),
    "gumbel_beta": (lambda d, a, b, c, e: (d.Gumbel(a, b), d.Beta(c, e)), [LOC, POS, POS, POS]),
    "laplace_normal": (lambda d, a, b, c, e: (d.Laplace(a, b), d.Normal(c, e)),
                       [LOC, POS, X, POS]),
    "normal_gumbel": (lambda d, a, b, c, e: (d.Normal(a, b), d.Gumbel(c, e)),
                      [LOC, POS, X, POS]),
    "normal_laplace": (lambda d, a, b, c, e: (d.Normal(a, b), d.Laplace(c, e)),
                       [LOC, POS, X, POS]),
    "normal_gamma": (lambda d, a, b, c, e: (d.Normal(a, b), d.Gamma(c, e)), [LOC, POS, POS, POS]),
    "pareto_exponential": (lambda d, a, b, c: (d.Pareto(a, b), d.Exponential(c)),
                           [POS, POS + 0.2, POS]),
    "pareto_gamma": (lambda d, a, b, c, e: (d.Pareto(a, b), d.Gamma(c, e)),
                     [POS, POS + 0.2, POS, POS]),
    "pareto_normal": (lambda d, a, b, c, e: (d.Pareto(a, b), d.Normal(c, e)),
                      [POS, POS + 1.2, LOC, POS]),
    "pareto_uniform": (lambda d, a, b, c, e: (d.Pareto(a, b), d.Uniform(c, e)),
                       [POS, POS, LOC, LOC + 1]),
    "poisson_binomial": (lambda d, a, b: (d.Poisson(a), d.Binomial(3, b)), [POS, PROB]),
    "uniform_beta": (lambda d, a, b, c, e: (d.Uniform(a, b), d.Beta(c, e)),
                     [PROB * 0.5, PROB * 0.5 + 0.4 - (LOC > 1.2) * 0.5, POS, POS]),
    "uniform_cont_bern": (lambda d, a, b, c: (d.Uniform(a, b), d.ContinuousBernoulli(c)),
                          [PROB * 0.5, PROB * 0.5 + 0.3, PROB]),
    "uniform_exponential": (lambda d, a, b, c: (d.Uniform(a, b), d.Exponential(c)),
                            [POS - 1, POS + 1, POS]),
    "uniform_gamma": (lambda d, a, b, c, e: (d.Uniform(a, b), d.Gamma(c, e)),
                      [POS - 0.4, POS + 1, POS, POS]),
    "uniform_gumbel": (lambda d, a, b, c, e: (d.Uniform(a, b), d.Gumbel(c, e)),
                       [LOC, LOC + 1, X, POS]),
    "uniform_normal": (lambda d, a, b, c, e: (d.Uniform(a, b), d.Normal(c, e)),
                       [LOC, LOC + 1, X, POS]),
    "uniform_pareto": (lambda d, a, b, c, e: (d.Uniform(a, b), d.Pareto(c, e)),
                       [POS, POS + 1, POS[::-1], POS]),
}


@pytest.mark.parametrize("name", sorted(KL_PAIRS))
def test_kl_divergence(name):
    ctor, params = KL_PAIRS[name]
    _compare(lambda lib, d, *ps: d.kl_divergence(*ctor(d, *ps)), params)


SPD3 = _spd(3)


@pytest.mark.parametrize("make", [
    lambda d, p: d.Normal(p, p + 1), lambda d, p: d.Gamma(p, p + 1),
    lambda d, p: d.Beta(p, p + 1), lambda d, p: d.Exponential(p),
    lambda d, p: d.Dirichlet(p + 1), lambda d, p: d.Bernoulli(p / 3),
    lambda d, p: d.ContinuousBernoulli(p / 3),
    lambda d, p: d.Wishart(p[0] + 3, covariance_matrix=p.new_tensor(SPD3)),
])
def test_exponential_family_bregman_entropy(make):
    # the generic entropy (from the log normaliser by autograd) against torch's generic one
    def fn(lib, d, p):
        dist = make(d, p)
        assert isinstance(dist, d.ExponentialFamily)
        return d.ExponentialFamily.entropy(dist)

    _compare(fn, [POS], atol=1e-6)
    with pytest.raises(NotImplementedError):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Poisson(1.0))  # Bregman needs one family


def test_cdf_transform_and_transformed_uniform():
    # a distribution's cdf as a transform: log|det J| is its log density
    def fn(lib, d, m, s, x):
        t = d.CumulativeDistributionTransform(d.Normal(m, s))
        y = t(x)
        return t.log_abs_det_jacobian(x, y) + t.inv(y) + y

    _compare(fn, [LOC, POS, X])
    assert repr(D.CumulativeDistributionTransform(D.Normal(0.0, 1.0)).codomain) == \
        repr(TD.CumulativeDistributionTransform(TD.Normal(0.0, 1.0)).codomain)


# transform factories, input arrays (domain side)
TRANSFORMS = {
    "stick_breaking": (lambda d: d.StickBreakingTransform(), RNG.standard_normal((2, 3))),
    "corr_cholesky": (lambda d: d.CorrCholeskyTransform(), RNG.standard_normal((2, 6))),
    "reshape": (lambda d: d.ReshapeTransform((2, 3), (3, 2)), RNG.standard_normal((4, 2, 3))),
    "cat": (lambda d: d.CatTransform([d.ExpTransform(), d.AffineTransform(1.0, 2.0)], dim=-1,
                                     lengths=[1, 2]), RNG.standard_normal((2, 3))),
    "cat_dim0": (lambda d: d.CatTransform([d.ExpTransform(), d.SigmoidTransform()], dim=0,
                                          lengths=[2, 1]), RNG.standard_normal((3, 2))),
    "cat_event": (lambda d: d.CatTransform([d.IndependentTransform(d.ExpTransform(), 1),
                                            d.AffineTransform(0.0, 2.0, event_dim=1)],
                                           dim=0, lengths=[2, 2]),
                  RNG.standard_normal((4, 3))),
    "stack": (lambda d: d.StackTransform([d.ExpTransform(), d.TanhTransform()], dim=1),
              RNG.standard_normal((3, 2)) * 0.5),
}
NO_LADJ = {"lower_cholesky": (lambda d: d.LowerCholeskyTransform(), RNG.standard_normal((2, 3, 3))),
           "positive_definite": (lambda d: d.PositiveDefiniteTransform(),
                                 RNG.standard_normal((2, 3, 3)))}


@pytest.mark.parametrize("name", sorted(TRANSFORMS) + sorted(NO_LADJ))
def test_transform_forward_inverse_ladj(name):
    make, x = {**TRANSFORMS, **NO_LADJ}[name]
    _compare(lambda lib, d, x: make(d)(x), [x])
    _compare(lambda lib, d, x: make(d).inv(make(d)(x).detach()), [x])
    if name in TRANSFORMS:
        def ladj(lib, d, x):
            t = make(d)
            return t.log_abs_det_jacobian(x, t(x))

        _compare(ladj, [x], atol=1e-6)
    e, t = make(D), make(TD)
    assert repr(e.domain) == repr(t.domain) and repr(e.codomain) == repr(t.codomain)
    assert e.bijective == t.bijective
    y = e(ember.tensor(x))
    assert bool(e.codomain.check(y).all())
    assert tuple(e.forward_shape(ember.Size(x.shape))) == \
        tuple(t.forward_shape(torch.Size(x.shape)))
    assert tuple(e.inverse_shape(y.shape)) == tuple(t.inverse_shape(torch.Size(y.shape)))


def test_transform_errors_and_cache():
    with pytest.raises(ValueError):
        D.ReshapeTransform((2, 3), (4,))
    with pytest.raises(ValueError):
        D.CorrCholeskyTransform().forward_shape((4,))
    t = D.StickBreakingTransform().with_cache(1)
    assert t == D.StickBreakingTransform()
    x = ember.randn(4)
    y = t(x)
    assert t.inv(y) is x  # cached
    assert D.CatTransform([D.ExpTransform()]).with_cache(1)._cache_size == 1


CONSTRAINTS = [
    lambda c, lib: c.real, lambda c, lib: c.positive, lambda c, lib: c.nonnegative,
    lambda c, lib: c.greater_than(-2.0), lambda c, lib: c.greater_than_eq(1.0),
    lambda c, lib: c.less_than(3.0), lambda c, lib: c.unit_interval,
    lambda c, lib: c.interval(-1.0, 2.0), lambda c, lib: c.half_open_interval(0.0, 5.0),
    lambda c, lib: c.simplex, lambda c, lib: c.real_vector,
    lambda c, lib: c.independent(c.positive, 1), lambda c, lib: c.lower_cholesky,
    lambda c, lib: c.positive_definite, lambda c, lib: c.corr_cholesky,
    lambda c, lib: c.cat([c.positive, c.unit_interval], dim=-1, lengths=[2, 1]),
    lambda c, lib: c.stack([c.positive, c.real, c.interval(0.0, 3.0)], dim=-1),
]
MATRIX_CONSTRAINTS = {12, 13}  # lower_cholesky, positive_definite: (3, 3) events


@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
@pytest.mark.parametrize("i", range(len(CONSTRAINTS)))
def test_constraint_registries(registry, i):
    ec, tc = CONSTRAINTS[i](D.constraints, ember), CONSTRAINTS[i](TD.constraints, torch)
    try:
        tt = getattr(TD, registry)(tc)
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            getattr(D, registry)(ec)
        return
    et = getattr(D, registry)(ec)
    assert repr(et) == repr(tt)
    # corr_cholesky (14) maps vectors of 3 = 3 * 2 / 2 entries to 3 x 3 factors
    x = RNG.standard_normal((4, 3, 3) if i in MATRIX_CONSTRAINTS else (4, 3))
    y = et(ember.tensor(x))
    np.testing.assert_allclose(y.numpy(), tt(torch.tensor(x)).numpy(), atol=1e-12)
    assert bool(ec.check(y).all())


def test_registry_register_and_errors():
    class MyConstraint(D.constraints.Constraint):
        def check(self, value):
            return value > 5

    with pytest.raises(NotImplementedError):
        D.biject_to(MyConstraint())
    D.biject_to.register(MyConstraint, lambda c: D.AffineTransform(5.0, 1.0))
    assert isinstance(D.biject_to(MyConstraint()), D.AffineTransform)
    with pytest.raises(TypeError):
        D.transform_to.register(int, lambda c: None)


SHAPED = {  # name -> (dist, batch_shape, event_shape)
    "weibull": (lambda: D.Weibull(ember.ones(2), 1.5), (2,), ()),
    "pareto": (lambda: D.Pareto(ember.ones(2), 3.0), (2,), ()),
    "halfcauchy": (lambda: D.HalfCauchy(ember.ones(2, 3)), (2, 3), ()),
    "inverse_gamma": (lambda: D.InverseGamma(ember.ones(2), 2.0), (2,), ()),
    "kumaraswamy": (lambda: D.Kumaraswamy(ember.ones(2), 2.0), (2,), ()),
    "negative_binomial": (lambda: D.NegativeBinomial(3.0, ember.full((2,), 0.4)), (2,), ()),
    "fishersnedecor": (lambda: D.FisherSnedecor(ember.ones(2) * 3, 5.0), (2,), ()),
    "generalized_pareto": (lambda: D.GeneralizedPareto(ember.zeros(2), 1.0, 0.2), (2,), ()),
    "vonmises": (lambda: D.VonMises(ember.zeros(2), 2.0), (2,), ()),
    "continuous_bernoulli": (lambda: D.ContinuousBernoulli(ember.full((2,), 0.3)), (2,), ()),
    "lowrank_mvn": (lambda: D.LowRankMultivariateNormal(ember.zeros(2, 3), ember.ones(3, 1),
                                                        ember.ones(3)), (2,), (3,)),
    "logistic_normal": (lambda: D.LogisticNormal(ember.zeros(2, 3), 1.0), (2,), (4,)),
    "logistic_normal_scalar": (lambda: D.LogisticNormal(0.0, 1.0), (), (2,)),
    "lkj_cholesky": (lambda: D.LKJCholesky(3, ember.ones(2)), (2,), (3, 3)),
    "wishart": (lambda: D.Wishart(ember.full((2,), 4.0), ember.eye(3)), (2,), (3, 3)),
    "onehot_st": (lambda: D.OneHotCategoricalStraightThrough(ember.ones(2, 4)), (2,), (4,)),
}


@pytest.mark.parametrize("name", sorted(SHAPED))
@pytest.mark.parametrize("sample_shape", [(), (3,)])
def test_sample_shapes_and_expand(name, sample_shape):
    make, batch, event = SHAPED[name]
    d = make()
    assert tuple(d.batch_shape) == batch and tuple(d.event_shape) == event
    s = d.sample(sample_shape)
    assert tuple(s.shape) == sample_shape + batch + event
    assert bool(d.support.check(s).all())
    if d.has_rsample:
        assert tuple(d.rsample(sample_shape).shape) == sample_shape + batch + event
    e = d.expand((4,) + batch)
    assert type(e) is type(d)
    assert tuple(e.batch_shape) == (4,) + batch and tuple(e.event_shape) == event
    assert tuple(e.sample(sample_shape).shape) == sample_shape + (4,) + batch + event
    assert tuple(e.log_prob(e.sample()).shape) == (4,) + batch


def test_flags_and_supports_match_torch():
    for name, (ctor, params, _) in CASES.items():
        e = ctor(D, *[ember.tensor(p) for p in params])
        t = ctor(TD, *[torch.tensor(p) for p in params])
        assert e.has_rsample == t.has_rsample, name
        assert e.has_enumerate_support == t.has_enumerate_support, name
        assert type(e.support).__name__ == type(t.support).__name__, name
        if not D.constraints.is_dependent(type(e).support):
            assert repr(e.support) == repr(t.support), name
        assert isinstance(e, D.ExponentialFamily) == isinstance(t, TD.ExponentialFamily), name
        assert sorted(e.arg_constraints) == sorted(t.arg_constraints), name
        assert tuple(e.batch_shape) == tuple(t.batch_shape), name


STATS = {  # sample mean and variance of 20k draws vs the analytic values
    "weibull": lambda: D.Weibull(ember.tensor([1.0, 2.0]), ember.tensor([0.8, 3.0])),
    "pareto": lambda: D.Pareto(ember.tensor([1.0, 0.5]), ember.tensor([6.0, 9.0])),
    "inverse_gamma": lambda: D.InverseGamma(ember.tensor([6.0, 9.0]), ember.tensor([1.0, 3.0])),
    "kumaraswamy": lambda: D.Kumaraswamy(ember.tensor([0.7, 3.0]), ember.tensor([2.0, 0.8])),
    "negative_binomial": lambda: D.NegativeBinomial(ember.tensor([2.5, 10.0]),
                                                    ember.tensor([0.3, 0.6])),
    "fishersnedecor": lambda: D.FisherSnedecor(ember.tensor([4.0, 10.0]),
                                               ember.tensor([20.0, 30.0])),
    "generalized_pareto": lambda: D.GeneralizedPareto(ember.tensor([0.0, 1.0]), 2.0,
                                                      ember.tensor([-0.3, 0.1])),
    "continuous_bernoulli": lambda: D.ContinuousBernoulli(ember.tensor([0.2, 0.5, 0.9])),
    "lowrank_mvn": lambda: D.LowRankMultivariateNormal(
        ember.tensor([1.0, -1.0]), ember.tensor([[1.0], [0.5]]), ember.tensor([0.5, 2.0])),
    "onehot_st": lambda: D.OneHotCategoricalStraightThrough(ember.tensor([0.2, 0.5, 0.3])),
}


@pytest.mark.parametrize("name", sorted(STATS))
def test_sample_statistics(name):
    ember.manual_seed(0)
    d = STATS[name]()
    s = d.sample((20000,)).double()
    np.testing.assert_allclose(s.mean(0).numpy(), d.mean.double().numpy(), rtol=0.05, atol=0.03)
    np.testing.assert_allclose(s.var(0).numpy(), d.variance.double().numpy(), rtol=0.1,
                               atol=0.03)


def test_vonmises_samples():
    # circular mean direction = loc, E[cos(x - loc)] = I1(k) / I0(k) = 1 - circular variance
    ember.manual_seed(0)
    loc, k = ember.tensor([0.5, -3.0, 2.0]), ember.tensor([0.01, 2.0, 30.0])
    d = D.VonMises(loc, k)
    s = d.sample((20000,))
    assert s.dtype == ember.float32
    assert bool(((s >= -math.pi) & (s < math.pi)).all())
    mean_cos = ember.cos(s - loc).double().mean(0).numpy()
    np.testing.assert_allclose(mean_cos, 1 - d.variance.double().numpy(), atol=0.02)
    np.testing.assert_allclose(ember.sin(s - loc).double().mean(0).numpy(), 0, atol=0.02)


def test_lkj_and_wishart_and_logistic_normal_samples():
    ember.manual_seed(0)
    eta, n = 2.0, 4
    L = D.LKJCholesky(n, eta).sample((20000,))
    corr = (L @ L.mT).numpy()
    off = corr[:, np.tril_indices(n, -1)[0], np.tril_indices(n, -1)[1]]
    np.testing.assert_allclose(np.diagonal(corr, axis1=-2, axis2=-1), 1.0, atol=1e-5)
    # each off-diagonal correlation: (r + 1) / 2 ~ Beta(eta - 1 + n/2, same), var 1/(2 eta + n - 1)
    np.testing.assert_allclose(off.mean(0), 0, atol=0.02)
    np.testing.assert_allclose(off.var(0), 1 / (2 * eta + n - 1), rtol=0.06)
    cov = ember.tensor(_spd(3), dtype=ember.float64)
    W = D.Wishart(ember.tensor(5.0, dtype=ember.float64), cov).sample((20000,))
    np.testing.assert_allclose(W.mean(0).numpy(), 5 * cov.numpy(), rtol=0.03, atol=0.5)
    ln = D.LogisticNormal(ember.tensor([0.5, -0.5]), ember.tensor([0.3, 0.3]))
    torch.manual_seed(0)
    ref = TD.LogisticNormal(torch.tensor([0.5, -0.5]), torch.tensor([0.3, 0.3])).sample((20000,))
    np.testing.assert_allclose(ln.sample((20000,)).mean(0).numpy(), ref.mean(0).numpy(),
                               atol=0.01)


REPARAM = {  # d E[x] / d params from rsample vs the gradient of the analytic mean
    "weibull": (lambda a, b: D.Weibull(a, b), [1.0, 2.0], [0.8, 3.0]),
    "pareto": (lambda a, b: D.Pareto(a, b), [1.0, 0.5], [6.0, 9.0]),
    "inverse_gamma": (lambda a, b: D.InverseGamma(a, b), [6.0, 9.0], [1.0, 3.0]),
    "kumaraswamy": (lambda a, b: D.Kumaraswamy(a, b), [0.7, 3.0], [2.0, 0.8]),
    "fishersnedecor": (lambda a, b: D.FisherSnedecor(a, b), [4.0, 10.0], [20.0, 30.0]),
    "generalized_pareto": (lambda a, b: D.GeneralizedPareto(0.5, a, b), [2.0, 1.0],
                           [-0.3, 0.1]),
    "continuous_bernoulli": (lambda a, b: D.ContinuousBernoulli(a * b), [0.3, 0.8], [1.0, 1.0]),
    "lowrank_mvn": (lambda a, b: D.LowRankMultivariateNormal(a, b.reshape(2, 1), b.exp()),
                    [1.0, -1.0], [0.3, 0.6]),
}


@pytest.mark.parametrize("name", sorted(REPARAM))
def test_rsample_gradients_match_gradient_of_mean(name):
    ember.manual_seed(0)
    make, a0, b0 = REPARAM[name]
    a = ember.tensor(a0, dtype=ember.float64, requires_grad=True)
    b = ember.tensor(b0, dtype=ember.float64, requires_grad=True)
    make(a, b).rsample((40000,)).mean(0).sum().backward()
    ga, gb = a.grad.numpy().copy(), b.grad.numpy().copy()
    a.grad = b.grad = None
    make(a, b).mean.sum().backward()
    wa = a.grad.numpy() if a.grad is not None else np.zeros(2)
    wb = b.grad.numpy() if b.grad is not None else np.zeros(2)
    np.testing.assert_allclose(ga, wa, rtol=0.06, atol=0.02)
    np.testing.assert_allclose(gb, wb, rtol=0.06, atol=0.02)


def test_straight_through_gradient_is_the_probs_gradient():
    logits = ember.tensor(RNG.standard_normal((2, 4)), requires_grad=True)
    w = ember.tensor(RNG.standard_normal((5, 2, 4)))
    d = D.OneHotCategoricalStraightThrough(logits=logits)
    s = d.rsample((5,))
    assert bool(D.constraints.one_hot.check(s.detach()).all())
    (s * w).sum().backward()
    g = logits.grad.numpy().copy()
    logits.grad = None
    (D.OneHotCategoricalStraightThrough(logits=logits).probs * w.sum(0)).sum().backward()
    np.testing.assert_allclose(g, logits.grad.numpy(), atol=1e-6)


def test_lowrank_matrices_match_torch():
    args = [LOC, RNG.standard_normal((2, 3, 2)), POS]
    for attr in ["covariance_matrix", "precision_matrix", "scale_tril"]:
        _compare(lambda lib, d, m, w, s, attr=attr: getattr(d.LowRankMultivariateNormal(m, w, s),
                                                            attr), args)
    for attr in ["covariance_matrix", "precision_matrix", "scale_tril"]:
        _compare(lambda lib, d, df, c, attr=attr: getattr(d.Wishart(df, c), attr),
                 [POS[:, 0] + 3, _spd(3, (2,))])


BAD = [
    lambda d, lib: d.Weibull(-1.0, 1.0),
    lambda d, lib: d.Weibull(1.0, 1.0).log_prob(lib.tensor(-1.0)),
    lambda d, lib: d.Pareto(1.0, -1.0),
    lambda d, lib: d.Pareto(1.0, 2.0).log_prob(lib.tensor(0.5)),
    lambda d, lib: d.HalfCauchy(0.0),
    lambda d, lib: d.InverseGamma(1.0, -2.0),
    lambda d, lib: d.Kumaraswamy(1.0, 0.0),
    lambda d, lib: d.Kumaraswamy(1.0, 2.0).log_prob(lib.tensor(1.5)),
    lambda d, lib: d.NegativeBinomial(-1.0, 0.5),
    lambda d, lib: d.NegativeBinomial(2.0, lib.tensor([1.0])),
    lambda d, lib: d.NegativeBinomial(2.0),
    lambda d, lib: d.NegativeBinomial(2.0, 0.5).log_prob(lib.tensor(0.5)),
    lambda d, lib: d.FisherSnedecor(1.0, -1.0),
    lambda d, lib: d.GeneralizedPareto(0.0, -1.0, 0.1),
    lambda d, lib: d.GeneralizedPareto(0.0, 1.0, -0.5).log_prob(lib.tensor(3.0)),
    lambda d, lib: d.VonMises(0.0, -1.0),
    lambda d, lib: d.ContinuousBernoulli(),
    lambda d, lib: d.ContinuousBernoulli(lib.tensor([1.5]), validate_args=True),
    lambda d, lib: d.ContinuousBernoulli(0.3).log_prob(lib.tensor(2.0)),
    lambda d, lib: d.LowRankMultivariateNormal(lib.tensor(0.0), lib.ones(1, 1), lib.ones(1)),
    lambda d, lib: d.LowRankMultivariateNormal(lib.zeros(2), lib.ones(2), lib.ones(2)),
    lambda d, lib: d.LowRankMultivariateNormal(lib.zeros(2), lib.ones(3, 1), lib.ones(2)),
    lambda d, lib: d.LowRankMultivariateNormal(lib.zeros(2), lib.ones(2, 1), lib.ones(3)),
    lambda d, lib: d.LowRankMultivariateNormal(lib.zeros(2), lib.zeros(2, 1), -lib.ones(2)),
    lambda d, lib: d.LogisticNormal(0.0, -1.0),
    lambda d, lib: d.LogisticNormal(lib.zeros(2), 1.0).log_prob(lib.tensor([0.5, 0.6, 0.2])),
    lambda d, lib: d.LKJCholesky(1, 1.0),
    lambda d, lib: d.LKJCholesky(2, -1.0),
    lambda d, lib: d.LKJCholesky(2, 1.0).log_prob(lib.eye(2) * 2),
    lambda d, lib: d.Wishart(1.0, lib.eye(3)),
    lambda d, lib: d.Wishart(4.0, -lib.eye(3)),
    lambda d, lib: d.Wishart(4.0, lib.eye(2)).log_prob(-lib.eye(2)),
    lambda d, lib: d.OneHotCategoricalStraightThrough(lib.ones(3)).log_prob(lib.ones(3)),
]


@pytest.mark.parametrize("i", range(len(BAD)))
def test_validation_errors_match_torch(i):
    with pytest.raises(Exception) as te:
        BAD[i](TD, torch)
    with pytest.raises(Exception) as ee:
        BAD[i](D, ember)
    assert type(ee.value) is type(te.value), (te.value, ee.value)


def _kl_zoo(d, lib):
    t = lambda v: lib.tensor(v, dtype=lib.float64)  # noqa: E731
    return {
        "Normal": d.Normal(t(0.3), t(1.2)), "Gamma": d.Gamma(t(2.0), t(1.5)),
        "Beta": d.Beta(t(2.0), t(3.0)), "Exponential": d.Exponential(t(1.3)),
        "Uniform": d.Uniform(t(0.1), t(0.7)), "Laplace": d.Laplace(t(0.1), t(0.7)),
        "Gumbel": d.Gumbel(t(0.1), t(0.7)), "Pareto": d.Pareto(t(0.5), t(3.5)),
        "ContinuousBernoulli": d.ContinuousBernoulli(t(0.3)), "Poisson": d.Poisson(t(2.0)),
        "Bernoulli": d.Bernoulli(t(0.3)), "Binomial": d.Binomial(3, t(0.3)),
        "Weibull": d.Weibull(t(1.0), t(2.0)), "HalfCauchy": d.HalfCauchy(t(1.0)),
        "VonMises": d.VonMises(t(0.0), t(1.0)), "Kumaraswamy": d.Kumaraswamy(t(2.0), t(3.0)),
    }


def test_kl_table_matches_torch():
    # every ordered pair: same value, or the same refusal (NotImplementedError / +inf)
    ember_zoo, torch_zoo = _kl_zoo(D, ember), _kl_zoo(TD, torch)
    for a in ember_zoo:
        for b in ember_zoo:
            try:
                want = TD.kl_divergence(torch_zoo[a], torch_zoo[b]).detach().numpy()
            except NotImplementedError:
                with pytest.raises(NotImplementedError):
                    D.kl_divergence(ember_zoo[a], ember_zoo[b])
                continue
            got = D.kl_divergence(ember_zoo[a], ember_zoo[b]).detach().numpy()
            np.testing.assert_allclose(got, want, rtol=1e-6, err_msg=f"KL({a} || {b})")
