"""ember.distributions against torch.distributions: values, gradients, shapes, errors.

Random draws differ from torch's (different generators), so samples are checked by shape and
by their statistics against the analytic mean/variance instead of element by element.
"""

import math

import numpy as np
import pytest
import torch
import torch.distributions as TD

import ember
import ember.distributions as D

RNG = np.random.default_rng(0)


def _pair(arr, grad=True):
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    t = torch.tensor(arr, dtype=torch.float64, requires_grad=grad)
    e = ember.tensor(arr, dtype=ember.float64, requires_grad=grad)
    return t, e


def _np(x):
    return x.detach().numpy() if isinstance(x, torch.Tensor) else np.asarray(x.detach().numpy())


def _compare(fn, arrays, grad=True, atol=1e-7, rtol=1e-6):
    """fn(lib, dists, *inputs) on torch and ember; compare outputs and input gradients."""
    pairs = [_pair(a, grad) for a in arrays]
    try:
        tout = fn(torch, TD, *[p[0] for p in pairs])
    except Exception as exc:  # ember must refuse the same way
        with pytest.raises(type(exc)):
            fn(ember, D, *[p[1] for p in pairs])
        return
    eout = fn(ember, D, *[p[1] for p in pairs])
    assert tuple(eout.shape) == tuple(tout.shape)
    np.testing.assert_allclose(_np(eout), _np(tout), atol=atol, rtol=rtol)
    if not grad or not tout.requires_grad:
        assert not (grad and eout.requires_grad), "ember output has a graph, torch's has none"
        return
    finite = np.isfinite(_np(tout))
    upstream = RNG.standard_normal(tuple(tout.shape)) * finite
    tout.backward(torch.tensor(upstream))
    eout.backward(ember.tensor(upstream))
    for (t, e) in pairs:
        tg = t.grad.numpy() if t.grad is not None else np.zeros(t.shape)
        eg = e.grad.numpy() if e.grad is not None else np.zeros(tuple(e.shape))
        np.testing.assert_allclose(eg, tg, atol=atol * 10, rtol=rtol * 10)


def _spd(n, batch=()):
    a = RNG.standard_normal(batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


# name -> (constructor(dists, *params), param arrays, value array)
LOC = RNG.standard_normal((2, 3))
POS = RNG.uniform(0.5, 2.0, (2, 3))
PROB = RNG.uniform(0.1, 0.9, (2, 3))
X = RNG.standard_normal((2, 3))
CASES = {
    "normal": (lambda d, m, s: d.Normal(m, s), [LOC, POS], X),
    "laplace": (lambda d, m, s: d.Laplace(m, s), [LOC, POS], X + 0.01),
    "exponential": (lambda d, r: d.Exponential(r), [POS], np.abs(X)),
    "uniform": (lambda d, lo, hi: d.Uniform(lo, hi), [LOC - 3, LOC + POS + 3], LOC),
    "gamma": (lambda d, c, r: d.Gamma(c, r), [POS + 0.5, POS], np.abs(X) + 0.1),
    "beta": (lambda d, a, b: d.Beta(a, b), [POS + 0.5, POS + 1], PROB),
    "bernoulli_probs": (lambda d, p: d.Bernoulli(probs=p), [PROB], (X > 0) * 1.0),
    "bernoulli_logits": (lambda d, lg: d.Bernoulli(logits=lg), [LOC], (X > 0) * 1.0),
    "poisson": (lambda d, r: d.Poisson(r), [POS * 3], np.floor(np.abs(X) * 3)),
    "binomial": (lambda d, p: d.Binomial(10, probs=p), [PROB], np.floor(np.abs(X) * 3)),
    "binomial_logits": (lambda d, lg: d.Binomial(10, logits=lg), [LOC], np.floor(np.abs(X) * 3)),
    "categorical_probs": (lambda d, p: d.Categorical(probs=p), [RNG.uniform(0.1, 1, (4, 5))],
                          np.array([0, 4, 2, 1.0])),
    "categorical_logits": (lambda d, lg: d.Categorical(logits=lg), [RNG.standard_normal((4, 5))],
                           np.array([3, 0, 2, 1.0])),
    "onehot": (lambda d, p: d.OneHotCategorical(probs=p), [RNG.uniform(0.1, 1, (4, 5))],
               np.eye(5)[[0, 4, 2, 1]]),
    "mvn_cov": (lambda d, m, c: d.MultivariateNormal(m, covariance_matrix=c),
                [RNG.standard_normal((2, 3)), _spd(3, (2,))], RNG.standard_normal((2, 3))),
    "mvn_prec": (lambda d, m, c: d.MultivariateNormal(m, precision_matrix=c),
                 [RNG.standard_normal(3), _spd(3)], RNG.standard_normal((2, 3))),
    "mvn_tril": (lambda d, m, c: d.MultivariateNormal(m, scale_tril=c),
                 [RNG.standard_normal(3), np.linalg.cholesky(_spd(3, (2,)))],
                 RNG.standard_normal((2, 3))),
    "independent": (lambda d, m, s: d.Independent(d.Normal(m, s), 1), [LOC, POS], X),
    "cauchy": (lambda d, m, s: d.Cauchy(m, s), [LOC, POS], X),
    "dirichlet": (lambda d, c: d.Dirichlet(c), [POS + 0.3], PROB / PROB.sum(-1, keepdims=True)),
    "geometric": (lambda d, p: d.Geometric(p), [PROB], np.floor(np.abs(X) * 3)),
    "geometric_logits": (lambda d, lg: d.Geometric(logits=lg), [LOC], np.floor(np.abs(X) * 3)),
    "multinomial": (lambda d, p: d.Multinomial(5, p), [PROB], np.array([[1, 3, 1], [0, 0, 5.0]])),
    "chi2": (lambda d, df: d.Chi2(df), [POS * 2], np.abs(X) + 0.1),
    "studentt": (lambda d, df, m, s: d.StudentT(df, m, s), [POS * 2, LOC, POS], X),
    "lognormal": (lambda d, m, s: d.LogNormal(m, s), [LOC, POS], np.abs(X) + 0.1),
    "halfnormal": (lambda d, s: d.HalfNormal(s), [POS], np.abs(X)),
    "gumbel": (lambda d, m, s: d.Gumbel(m, s), [LOC, POS], X),
    "relaxed_bernoulli": (lambda d, t, p: d.RelaxedBernoulli(t, probs=p), [POS, PROB],
                          PROB[::-1]),
    "relaxed_bernoulli_logits": (lambda d, lg: d.RelaxedBernoulli(lg.new_tensor(0.7),
                                                                  logits=lg), [LOC],
                                 PROB[::-1]),
    "relaxed_onehot": (lambda d, t, p: d.RelaxedOneHotCategorical(t, p),
                       [POS[:, 0], PROB], (PROB / PROB.sum(-1, keepdims=True))[::-1]),
    "mixture": (lambda d, p, m, s: d.MixtureSameFamily(d.Categorical(p), d.Normal(m, s)),
                [PROB, LOC, POS], X[:, 0]),
    "mixture_mvn": (lambda d, p, m: d.MixtureSameFamily(
        d.Categorical(p), d.Independent(d.Normal(m, 1.0), 1)), [PROB[0], LOC[:, :, None]
                                                                 * np.ones(2)], X[:, :2]),
}
DISCRETE_VALUE = {"bernoulli_probs", "bernoulli_logits", "poisson", "binomial", "binomial_logits",
                  "categorical_probs", "categorical_logits", "onehot", "geometric",
                  "geometric_logits", "multinomial"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_log_prob_values_and_grads(name):
    ctor, params, value = CASES[name]
    vgrad = name not in DISCRETE_VALUE

    def fn(lib, d, *inputs):
        *ps, v = inputs
        if not vgrad:
            v = v.detach()
        return ctor(d, *ps).log_prob(v)

    _compare(fn, params + [value])


ENTROPY = sorted(set(CASES) - {"poisson", "relaxed_bernoulli", "relaxed_bernoulli_logits",
                                "relaxed_onehot"})


@pytest.mark.parametrize("name", ENTROPY)
def test_entropy(name):
    ctor, params, _ = CASES[name]
    _compare(lambda lib, d, *ps: ctor(d, *ps).entropy(), params)


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("prop", ["mean", "variance", "stddev", "mode"])
def test_moments(name, prop):
    ctor, params, _ = CASES[name]
    if name.startswith("categorical") and prop in ("mean", "variance", "stddev"):
        grad = False  # torch returns NaN constants
    else:
        grad = True
    _compare(lambda lib, d, *ps: getattr(ctor(d, *ps), prop) * 1.0, params, grad=grad)


CDF = ["normal", "laplace", "exponential", "uniform", "cauchy", "lognormal", "halfnormal",
       "gumbel"]


def test_gamma_cdf():
    # torch has no derivative of igamma in the concentration: compare value and rate/x grads
    conc = POS + 0.5
    _compare(lambda lib, d, r, v: d.Gamma(lib.tensor(conc), r).cdf(v), [POS, np.abs(X) + 0.1])
    c = ember.tensor(conc, requires_grad=True)
    ember.autograd.gradcheck(lambda c: D.Gamma(c, 1.5).cdf(ember.tensor(np.abs(X) + 0.1)), (c,),
                             eps=1e-6, atol=1e-5)


@pytest.mark.parametrize("name", CDF)
def test_cdf_icdf(name):
    ctor, params, value = CASES[name]
    _compare(lambda lib, d, *inp: ctor(d, *inp[:-1]).cdf(inp[-1]), params + [value])
    q = RNG.uniform(0.05, 0.95, (2, 3))
    _compare(lambda lib, d, *inp: ctor(d, *inp[:-1]).icdf(inp[-1]), params + [q])


KL_PAIRS = {
    "normal": (lambda d, a, b, c, e: (d.Normal(a, b), d.Normal(c, e)), [LOC, POS, X, POS[::-1]]),
    "laplace": (lambda d, a, b, c, e: (d.Laplace(a, b), d.Laplace(c, e)),
                [LOC, POS, X, POS[::-1]]),
    "exponential": (lambda d, a, b: (d.Exponential(a), d.Exponential(b)), [POS, POS[::-1]]),
    "uniform": (lambda d, a, b, c, e: (d.Uniform(a, b), d.Uniform(c, e)),
                [LOC, LOC + 1, LOC - 1, LOC + 3]),
    "bernoulli": (lambda d, a, b: (d.Bernoulli(a), d.Bernoulli(b)), [PROB, PROB[::-1]]),
    "bernoulli_logits": (lambda d, a, b: (d.Bernoulli(logits=a), d.Bernoulli(logits=b)),
                         [LOC, X]),
    "categorical": (lambda d, a, b: (d.Categorical(a), d.Categorical(b)),
                    [RNG.uniform(0.1, 1, (4, 5)), RNG.uniform(0.1, 1, (4, 5))]),
    "categorical_logits": (lambda d, a, b: (d.Categorical(logits=a), d.Categorical(logits=b)),
                           [RNG.standard_normal((4, 5)), RNG.standard_normal((4, 5))]),
    "onehot": (lambda d, a, b: (d.OneHotCategorical(a), d.OneHotCategorical(b)),
               [RNG.uniform(0.1, 1, (4, 5)), RNG.uniform(0.1, 1, (4, 5))]),
    "gamma": (lambda d, a, b, c, e: (d.Gamma(a, b), d.Gamma(c, e)), [POS, POS[::-1], POS + 1, POS]),
    "beta": (lambda d, a, b, c, e: (d.Beta(a, b), d.Beta(c, e)), [POS, POS[::-1], POS + 1, POS]),
    "poisson": (lambda d, a, b: (d.Poisson(a), d.Poisson(b)), [POS, POS[::-1]]),
    "mvn": (lambda d, a, b, c, e: (d.MultivariateNormal(a, scale_tril=b),
                                   d.MultivariateNormal(c, covariance_matrix=e)),
            [RNG.standard_normal((2, 3)), np.linalg.cholesky(_spd(3, (2,))),
             RNG.standard_normal(3), _spd(3)]),
    "independent": (lambda d, a, b, c, e: (d.Independent(d.Normal(a, b), 1),
                                           d.Independent(d.Normal(c, e), 1)),
                    [LOC, POS, X, POS[::-1]]),
    "dirichlet": (lambda d, a, b: (d.Dirichlet(a), d.Dirichlet(b)), [POS, POS[::-1]]),
    "geometric": (lambda d, a, b: (d.Geometric(a), d.Geometric(b)), [PROB, PROB[::-1]]),
    "cauchy": (lambda d, a, b, c, e: (d.Cauchy(a, b), d.Cauchy(c, e)), [LOC, POS, X, POS[::-1]]),
    "halfnormal": (lambda d, a, b: (d.HalfNormal(a), d.HalfNormal(b)), [POS, POS[::-1]]),
    "lognormal": (lambda d, a, b, c, e: (d.LogNormal(a, b), d.LogNormal(c, e)),
                  [LOC, POS, X, POS[::-1]]),
    "gamma_exponential": (lambda d, a, b, c: (d.Gamma(a, b), d.Exponential(c)),
                          [POS, POS[::-1], POS + 1]),
    "exponential_gamma": (lambda d, a, b, c: (d.Exponential(a), d.Gamma(b, c)),
                          [POS, POS[::-1], POS + 1]),
    "binomial": (lambda d, a, b: (d.Binomial(5, a), d.Binomial(5, b)), [PROB, PROB[::-1]]),
}


@pytest.mark.parametrize("name", sorted(KL_PAIRS))
def test_kl_divergence(name):
    ctor, params = KL_PAIRS[name]
    _compare(lambda lib, d, *ps: d.kl_divergence(*ctor(d, *ps)), params)


def test_kl_uniform_infinite_and_unregistered():
    p, q = D.Uniform(0.0, 2.0), D.Uniform(0.5, 1.0)
    assert math.isinf(D.kl_divergence(p, q).item())
    with pytest.raises(NotImplementedError):
        D.kl_divergence(D.Laplace(0.0, 1.0), D.Poisson(1.0))
    with pytest.raises(NotImplementedError):
        TD.kl_divergence(TD.Laplace(0.0, 1.0), TD.Poisson(1.0))


def test_register_kl_custom_pair():
    class MyNormal(D.Normal):
        pass

    @D.register_kl(MyNormal, D.Laplace)
    def _kl(p, q):
        return ember.zeros(())

    assert D.kl_divergence(MyNormal(0.0, 1.0), D.Laplace(0.0, 1.0)).item() == 0.0
    # subclasses still find the parent's pair
    assert D.kl_divergence(MyNormal(0.0, 1.0), D.Normal(0.0, 1.0)).item() == 0.0
    with pytest.raises(TypeError):
        D.register_kl(int, D.Normal)


SHAPED = {  # name -> (dist, batch_shape, event_shape)
    "normal": (lambda: D.Normal(ember.zeros(2, 3), ember.ones(2, 3)), (2, 3), ()),
    "laplace": (lambda: D.Laplace(ember.zeros(2), 1.0), (2,), ()),
    "exponential": (lambda: D.Exponential(ember.ones(2)), (2,), ()),
    "uniform": (lambda: D.Uniform(ember.zeros(2), 1.0), (2,), ()),
    "gamma": (lambda: D.Gamma(ember.ones(2), 2.0), (2,), ()),
    "beta": (lambda: D.Beta(ember.ones(2), 2.0), (2,), ()),
    "bernoulli": (lambda: D.Bernoulli(ember.full((2,), 0.3)), (2,), ()),
    "poisson": (lambda: D.Poisson(ember.full((2,), 3.0)), (2,), ()),
    "binomial": (lambda: D.Binomial(5, ember.full((2,), 0.3)), (2,), ()),
    "categorical": (lambda: D.Categorical(ember.ones(2, 4)), (2,), ()),
    "onehot": (lambda: D.OneHotCategorical(ember.ones(2, 4)), (2,), (4,)),
    "mvn": (lambda: D.MultivariateNormal(ember.zeros(2, 3), ember.eye(3)), (2,), (3,)),
    "independent": (lambda: D.Independent(D.Normal(ember.zeros(2, 3), 1.0), 1), (2,), (3,)),
    "cauchy": (lambda: D.Cauchy(ember.zeros(2), 1.0), (2,), ()),
    "dirichlet": (lambda: D.Dirichlet(ember.ones(2, 3)), (2,), (3,)),
    "geometric": (lambda: D.Geometric(ember.full((2,), 0.3)), (2,), ()),
    "multinomial": (lambda: D.Multinomial(4, ember.ones(2, 3)), (2,), (3,)),
    "chi2": (lambda: D.Chi2(ember.ones(2)), (2,), ()),
    "studentt": (lambda: D.StudentT(ember.full((2,), 3.0)), (2,), ()),
    "lognormal": (lambda: D.LogNormal(ember.zeros(2), 1.0), (2,), ()),
    "halfnormal": (lambda: D.HalfNormal(ember.ones(2)), (2,), ()),
    "gumbel": (lambda: D.Gumbel(ember.zeros(2), 1.0), (2,), ()),
    "relaxed_bernoulli": (lambda: D.RelaxedBernoulli(0.5, ember.full((2,), 0.3)), (2,), ()),
    "relaxed_onehot": (lambda: D.RelaxedOneHotCategorical(0.5, ember.ones(2, 3)), (2,), (3,)),
    "mixture": (lambda: D.MixtureSameFamily(D.Categorical(ember.ones(2, 3)),
                                            D.Normal(ember.zeros(2, 3), 1.0)), (2,), ()),
    "mixture_mvn": (lambda: D.MixtureSameFamily(
        D.Categorical(ember.ones(3)), D.MultivariateNormal(ember.zeros(3, 2), ember.eye(2))),
        (), (2,)),
}


@pytest.mark.parametrize("name", sorted(SHAPED))
@pytest.mark.parametrize("sample_shape", [(), (3,), (2, 3)])
def test_sample_shapes_and_expand(name, sample_shape):
    make, batch, event = SHAPED[name]
    d = make()
    assert tuple(d.batch_shape) == batch and tuple(d.event_shape) == event
    assert tuple(d.sample(sample_shape).shape) == sample_shape + batch + event
    if d.has_rsample:
        assert tuple(d.rsample(sample_shape).shape) == sample_shape + batch + event
    e = d.expand((4,) + batch)
    assert type(e) is type(d)
    assert tuple(e.batch_shape) == (4,) + batch and tuple(e.event_shape) == event
    assert tuple(e.sample(sample_shape).shape) == sample_shape + (4,) + batch + event
    assert tuple(e.log_prob(e.sample()).shape) == (4,) + batch


def test_scalar_parameter_samples():
    for d in [D.Bernoulli(0.3), D.Poisson(2.0), D.Normal(0.0, 1.0), D.Binomial(3, 0.5),
              D.Gamma(2.0, 1.0), D.Categorical(ember.ones(3))]:
        s = d.sample()
        assert tuple(s.shape) == () and np.isfinite(s.numpy()).all()
        assert tuple(d.sample((2,)).shape) == (2,)


def test_has_rsample_flags_match_torch():
    pairs = [(D.Normal(0.0, 1.0), TD.Normal(0.0, 1.0)), (D.Gamma(1.0, 1.0), TD.Gamma(1.0, 1.0)),
             (D.Bernoulli(0.3), TD.Bernoulli(0.3)), (D.Poisson(1.0), TD.Poisson(1.0)),
             (D.Beta(1.0, 1.0), TD.Beta(1.0, 1.0)),
             (D.Categorical(ember.ones(3)), TD.Categorical(torch.ones(3)))]
    for e, t in pairs:
        assert e.has_rsample == t.has_rsample
        assert e.has_enumerate_support == t.has_enumerate_support
        assert repr(e.support) == repr(t.support)
    assert repr(D.Normal(0.0, 1.0)) == repr(TD.Normal(0.0, 1.0))


STATS = {  # sample mean and variance of 20k draws vs analytic values
    "normal": lambda: D.Normal(ember.tensor([1.0, -2.0]), ember.tensor([0.5, 2.0])),
    "laplace": lambda: D.Laplace(ember.tensor([1.0, -2.0]), ember.tensor([0.5, 2.0])),
    "exponential": lambda: D.Exponential(ember.tensor([0.5, 3.0])),
    "uniform": lambda: D.Uniform(ember.tensor([0.0, -2.0]), ember.tensor([1.0, 5.0])),
    "gamma": lambda: D.Gamma(ember.tensor([0.5, 4.0]), ember.tensor([1.0, 2.0])),
    "beta": lambda: D.Beta(ember.tensor([0.5, 4.0]), ember.tensor([1.0, 2.0])),
    "bernoulli": lambda: D.Bernoulli(ember.tensor([0.2, 0.7])),
    "poisson": lambda: D.Poisson(ember.tensor([0.5, 6.0])),
    "binomial": lambda: D.Binomial(ember.tensor([4.0, 10.0]), ember.tensor([0.2, 0.7])),
    "onehot": lambda: D.OneHotCategorical(ember.tensor([0.2, 0.5, 0.3])),
    "mvn": lambda: D.MultivariateNormal(ember.tensor([1.0, 2.0]),
                                        ember.tensor([[2.0, 0.5], [0.5, 1.0]])),
    "dirichlet": lambda: D.Dirichlet(ember.tensor([0.5, 2.0, 3.0])),
    "geometric": lambda: D.Geometric(ember.tensor([0.3, 0.8])),
    "multinomial": lambda: D.Multinomial(6, ember.tensor([0.2, 0.5, 0.3])),
    "chi2": lambda: D.Chi2(ember.tensor([1.0, 5.0])),
    "studentt": lambda: D.StudentT(ember.tensor([8.0]), 1.0, 2.0),
    "lognormal": lambda: D.LogNormal(ember.tensor([0.0, 0.3]), ember.tensor([0.3, 0.5])),
    "halfnormal": lambda: D.HalfNormal(ember.tensor([0.5, 2.0])),
    "gumbel": lambda: D.Gumbel(ember.tensor([0.0, 2.0]), ember.tensor([1.0, 0.5])),
    "mixture": lambda: D.MixtureSameFamily(D.Categorical(ember.tensor([0.3, 0.7])),
                                           D.Normal(ember.tensor([-2.0, 1.0]),
                                                    ember.tensor([0.5, 1.0]))),
}


@pytest.mark.parametrize("name", sorted(STATS))
def test_sample_statistics(name):
    ember.manual_seed(0)
    d = STATS[name]()
    s = d.sample((20000,)).double()
    m, v = s.mean(0).numpy(), s.var(0).numpy()
    np.testing.assert_allclose(m, d.mean.double().numpy(), rtol=0.05, atol=0.03)
    np.testing.assert_allclose(v, d.variance.double().numpy(), rtol=0.08, atol=0.03)


def test_categorical_sample_frequencies():
    ember.manual_seed(0)
    probs = ember.tensor([[0.1, 0.6, 0.3], [0.5, 0.0, 0.5]])
    s = D.Categorical(probs).sample((20000,))
    assert s.dtype == ember.int64
    freq = np.stack([(s.numpy() == k).mean(0) for k in range(3)], -1)
    np.testing.assert_allclose(freq, probs.numpy(), atol=0.015)


def test_mvn_sample_covariance():
    ember.manual_seed(0)
    cov = np.array([[2.0, 0.5], [0.5, 1.0]])
    d = D.MultivariateNormal(ember.zeros(2, dtype=ember.float64), ember.tensor(cov))
    s = d.sample((20000,)).numpy()
    np.testing.assert_allclose(np.cov(s.T), cov, atol=0.08)


@pytest.mark.parametrize("name", ["normal", "laplace", "uniform", "exponential"])
def test_rsample_pathwise_gradients(name):
    ember.manual_seed(0)
    a = ember.tensor([0.5, 1.5], dtype=ember.float64, requires_grad=True)
    b = ember.tensor([1.0, 2.0], dtype=ember.float64, requires_grad=True)
    if name == "normal":
        d = D.Normal(a, b)  # x = a + b eps: dE[x]/da = 1
    elif name == "laplace":
        d = D.Laplace(a, b)
    elif name == "uniform":
        d = D.Uniform(a, a + b)  # x = a + b u: dE[x]/db = 1/2
    else:
        d = D.Exponential(b)  # x = E / rate: dE[x]/drate = -1/rate^2
    x = d.rsample((20000,))
    x.mean(0).sum().backward()
    if name == "exponential":
        np.testing.assert_allclose(b.grad.numpy(), -1 / np.array([1.0, 2.0]) ** 2, rtol=0.05)
    else:
        np.testing.assert_allclose(a.grad.numpy(), [1.0, 1.0], rtol=1e-6)
        if name == "uniform":
            np.testing.assert_allclose(b.grad.numpy(), [0.5, 0.5], atol=0.02)


def test_gamma_beta_rsample_gradients():
    # d E[x] / d concentration: Gamma mean c / r -> 1/r; Beta mean a/(a+b) -> b/(a+b)^2
    ember.manual_seed(0)
    c = ember.tensor([0.7, 3.0], requires_grad=True)
    r = ember.tensor([2.0, 0.5], requires_grad=True)
    D.Gamma(c, r).rsample((20000,)).mean(0).sum().backward()
    np.testing.assert_allclose(c.grad.numpy(), 1 / r.detach().numpy(), rtol=0.05)
    np.testing.assert_allclose(r.grad.numpy(), -c.detach().numpy() / r.detach().numpy() ** 2,
                               rtol=0.05)
    a = ember.tensor([1.5, 3.0], requires_grad=True)
    b = ember.tensor([2.0, 1.0], requires_grad=True)
    D.Beta(a, b).rsample((20000,)).mean(0).sum().backward()
    an, bn = a.detach().numpy(), b.detach().numpy()
    np.testing.assert_allclose(a.grad.numpy(), bn / (an + bn) ** 2, rtol=0.08)


def test_mvn_rsample_gradient():
    loc = ember.zeros(3, dtype=ember.float64, requires_grad=True)
    L = ember.tensor(np.linalg.cholesky(_spd(3)), requires_grad=True)
    D.MultivariateNormal(loc, scale_tril=L).rsample((5,)).sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), [5.0, 5.0, 5.0])
    assert L.grad is not None


BAD = [
    lambda d, lib: d.Normal(0.0, -1.0),
    lambda d, lib: d.Normal(lib.zeros(2), lib.tensor([1.0, 0.0])),
    lambda d, lib: d.Exponential(lib.tensor([-1.0])),
    lambda d, lib: d.Laplace(0.0, 0.0),
    lambda d, lib: d.Uniform(1.0, 0.0),
    lambda d, lib: d.Bernoulli(lib.tensor([1.5])),
    lambda d, lib: d.Bernoulli(),
    lambda d, lib: d.Bernoulli(probs=0.5, logits=0.0),
    lambda d, lib: d.Categorical(lib.tensor([-0.1, 1.1])),
    lambda d, lib: d.Categorical(),
    lambda d, lib: d.Poisson(lib.tensor([-1.0])),
    lambda d, lib: d.Binomial(lib.tensor([2.5]), lib.tensor([0.5])),
    lambda d, lib: d.Gamma(1.0, -1.0),
    lambda d, lib: d.Beta(-1.0, 1.0),
    lambda d, lib: d.MultivariateNormal(lib.zeros(2)),
    lambda d, lib: d.MultivariateNormal(lib.zeros(2), -lib.eye(2)),
    lambda d, lib: d.MultivariateNormal(lib.zeros(2), scale_tril=lib.ones(2, 2)),
    lambda d, lib: d.MultivariateNormal(lib.tensor(0.0), lib.eye(1)),
    lambda d, lib: d.Independent(d.Normal(lib.zeros(2), 1.0), 2),
    lambda d, lib: d.Normal(0.0, 1.0).log_prob(0.5),
    lambda d, lib: d.Normal(lib.zeros(3), 1.0).log_prob(lib.zeros(2)),
    lambda d, lib: d.Exponential(1.0).log_prob(lib.tensor(-1.0)),
    lambda d, lib: d.Bernoulli(0.5).log_prob(lib.tensor(0.5)),
    lambda d, lib: d.Categorical(lib.ones(3)).log_prob(lib.tensor(3)),
    lambda d, lib: d.Uniform(0.0, 1.0).log_prob(lib.tensor(2.0)),
    lambda d, lib: d.MultivariateNormal(lib.zeros(2), lib.eye(2)).log_prob(lib.zeros(3)),
    lambda d, lib: d.OneHotCategorical(lib.ones(3)).log_prob(lib.tensor([1.0, 1.0, 0.0])),
    lambda d, lib: d.Dirichlet(lib.tensor([1.0, -1.0])),
    lambda d, lib: d.Dirichlet(lib.tensor(1.0)),
    lambda d, lib: d.Dirichlet(lib.ones(2)).log_prob(lib.tensor([0.5, 0.6])),
    lambda d, lib: d.Geometric(lib.tensor([0.0])),
    lambda d, lib: d.Geometric(lib.tensor([1.5])),
    lambda d, lib: d.Multinomial(lib.tensor(3), lib.ones(2)),
    lambda d, lib: d.Multinomial(3, lib.ones(2)).log_prob(lib.tensor([3.0, 1.0])),
    lambda d, lib: d.Cauchy(0.0, -1.0),
    lambda d, lib: d.StudentT(-1.0),
    lambda d, lib: d.LogNormal(0.0, 1.0).log_prob(lib.tensor(-1.0)),
    lambda d, lib: d.HalfNormal(-1.0),
    lambda d, lib: d.Chi2(-1.0),
    lambda d, lib: d.MixtureSameFamily(d.Normal(0.0, 1.0), d.Normal(lib.zeros(3), 1.0)),
    lambda d, lib: d.MixtureSameFamily(d.Categorical(lib.ones(2)), d.Normal(lib.zeros(3), 1.0)),
]


@pytest.mark.parametrize("i", range(len(BAD)))
def test_validation_errors_match_torch(i):
    with pytest.raises(Exception) as te:
        BAD[i](TD, torch)
    with pytest.raises(Exception) as ee:
        BAD[i](D, ember)
    assert type(ee.value) is type(te.value), (te.value, ee.value)


def test_validate_args_off():
    assert D.Normal(0.0, -1.0, validate_args=False).scale.item() == -1.0
    D.Distribution.set_default_validate_args(False)
    try:
        D.Normal(0.0, -1.0)
        D.Exponential(1.0).log_prob(ember.tensor(-1.0))
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        D.Normal(0.0, -1.0)
    with pytest.raises(ValueError):
        D.Distribution.set_default_validate_args("yes")


def test_constraints_check_matches_torch():
    C, TC = D.constraints, TD.constraints
    x = np.array([[-1.0, 0.0, 0.5], [1.0, 2.0, 0.25]])
    names = [("real", ()), ("positive", ()), ("nonnegative", ()), ("unit_interval", ()),
             ("boolean", ()), ("nonnegative_integer", ()), ("positive_integer", ()),
             ("simplex", ()), ("integer_interval", (0, 1)), ("interval", (-1.0, 0.5)),
             ("greater_than", (0.0,)), ("greater_than_eq", (0.0,)), ("less_than", (1.0,)),
             ("half_open_interval", (-1.0, 1.0))]
    for name, args in names:
        ec, tc = getattr(C, name), getattr(TC, name)
        if args:
            ec, tc = ec(*args), tc(*args)
        got = ec.check(ember.tensor(x)).numpy()
        np.testing.assert_array_equal(got, tc.check(torch.tensor(x)).numpy(), err_msg=name)
        assert repr(ec) == repr(tc)
        assert ec.event_dim == tc.event_dim and ec.is_discrete == tc.is_discrete
    ind, tind = C.independent(C.positive, 1), TC.independent(TC.positive, 1)
    np.testing.assert_array_equal(ind.check(ember.tensor(x)).numpy(),
                                  tind.check(torch.tensor(x)).numpy())
    assert repr(ind) == repr(tind) and ind.event_dim == 1
    spd = _spd(3, (2,))
    spd[1, 0, 1] = -50.0
    spd[1, 1, 0] = -50.0
    for name in ["positive_definite", "lower_cholesky", "symmetric"]:
        np.testing.assert_array_equal(getattr(C, name).check(ember.tensor(spd)).numpy(),
                                      getattr(TC, name).check(torch.tensor(spd)).numpy())
    np.testing.assert_array_equal(C.one_hot.check(ember.tensor(np.eye(3)[[0, 2]])).numpy(),
                                  [True, True])


def test_enumerate_support_and_perplexity():
    _compare(lambda lib, d, p: d.Categorical(p).enumerate_support() * 1.0,
             [RNG.uniform(0.1, 1, (2, 3))], grad=False)
    _compare(lambda lib, d, p: d.Bernoulli(p).enumerate_support(expand=False),
             [PROB], grad=False)
    _compare(lambda lib, d, p: d.Binomial(4, p).enumerate_support(), [PROB], grad=False)
    _compare(lambda lib, d, p: d.Normal(0.0, p).perplexity(), [POS])


def test_lazy_probs_logits_and_mvn_matrices():
    _compare(lambda lib, d, lg: d.Bernoulli(logits=lg).probs, [LOC])
    _compare(lambda lib, d, p: d.Bernoulli(probs=p).logits, [PROB])
    _compare(lambda lib, d, p: d.Categorical(probs=p).logits, [RNG.uniform(0.1, 1, (4, 5))])
    _compare(lambda lib, d, lg: d.Categorical(logits=lg).probs, [RNG.standard_normal((4, 5))])
    cov = _spd(3)
    for attr in ["scale_tril", "covariance_matrix", "precision_matrix"]:
        _compare(lambda lib, d, m, c, attr=attr: getattr(d.MultivariateNormal(m, c), attr),
                 [RNG.standard_normal((2, 3)), cov], grad=False)


TRANSFORMS = {
    "exp": lambda d: [d.ExpTransform()],
    "tanh": lambda d: [d.TanhTransform(cache_size=1)],
    "sigmoid": lambda d: [d.SigmoidTransform()],
    "softplus": lambda d: [d.SoftplusTransform()],
    "affine": lambda d: [d.AffineTransform(1.0, -2.0)],
    "exp_affine": lambda d: [d.ExpTransform(), d.AffineTransform(0.5, 3.0)],
    "power": lambda d: [d.ExpTransform(), d.PowerTransform(2.0)],
    "compose": lambda d: [d.ComposeTransform([d.AffineTransform(0.0, 0.5), d.TanhTransform()])],
    "inverse": lambda d: [d.ExpTransform().inv.inv],
}
TVALUE = {"exp": 1.5, "tanh": 0.4, "sigmoid": 0.3, "softplus": 0.7, "affine": -0.2,
          "exp_affine": 2.0, "power": 1.7, "compose": -0.3, "inverse": 0.6}


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_transformed_distribution(name):
    def fn(lib, d, m, s, v):
        return d.TransformedDistribution(d.Normal(m, s), TRANSFORMS[name](d)).log_prob(v)

    value = np.full((2, 3), TVALUE[name]) * (1 + 0.1 * PROB)
    _compare(fn, [LOC * 0.3, POS, value])
    for method in ["cdf", "icdf"]:
        q = PROB if method == "icdf" else value
        _compare(lambda lib, d, m, s, v, method=method: getattr(
            d.TransformedDistribution(d.Normal(m, s), TRANSFORMS[name](d)), method)(v),
            [LOC * 0.3, POS, q])
    td = D.TransformedDistribution(D.Normal(ember.zeros(2, 3), 1.0), TRANSFORMS[name](D))
    assert tuple(td.rsample((4,)).shape) == (4, 2, 3) and td.has_rsample
    tt = TD.TransformedDistribution(TD.Normal(torch.zeros(2, 3), 1.0), TRANSFORMS[name](TD))
    assert repr(td.support) == repr(tt.support)


def test_tanh_normal_cached_inverse_and_kl():
    # SAC-style squashed Gaussian: log_prob of its own samples is finite thanks to the cache
    mu = ember.zeros(3, requires_grad=True)
    td = D.TransformedDistribution(D.Normal(mu, 3.0), [D.TanhTransform(cache_size=1)])
    a = td.rsample((100,))
    lp = td.log_prob(a)
    assert np.isfinite(lp.detach().numpy()).all()
    lp.sum().backward()
    assert mu.grad is not None
    _compare(lambda lib, d, a, b, c, e: d.kl_divergence(
        d.TransformedDistribution(d.Normal(a, b), [d.ExpTransform()]),
        d.TransformedDistribution(d.Normal(c, e), [d.ExpTransform()])), [LOC, POS, X, POS])
    with pytest.raises(ValueError):
        D.TransformedDistribution(D.Normal(0.0, 1.0), "exp")


def test_transform_log_abs_det_jacobian():
    for make in TRANSFORMS.values():
        def fn(lib, d, x, make=make):
            (t,) = make(d)[:1]
            y = t(x)
            return t.log_abs_det_jacobian(x, y) + t.inv(y)

        _compare(fn, [LOC * 0.5], atol=1e-6)
        assert D.TanhTransform().sign == 1 and D.AffineTransform(0.0, -1.0).sign == -1


def test_gamma_implicit_gradient_matches_torch():
    # for fixed draws x, dx/dalpha must equal torch's implicit reparameterisation gradient
    ember.manual_seed(1)
    alpha = ember.tensor([0.3, 1.0, 2.5, 10.0, 50.0], dtype=ember.float64, requires_grad=True)
    x = D.Gamma(alpha, 1.0).rsample((50,))
    x.backward(ember.ones_like(x))
    ta = torch.tensor(alpha.detach().numpy()).expand(50, 5)
    want = torch._standard_gamma_grad(ta, torch.tensor(x.detach().numpy())).sum(0)
    np.testing.assert_allclose(alpha.grad.numpy(), want.numpy(), rtol=1e-4)
