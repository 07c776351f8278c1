"""torch.distributions as used in VAEs, policy gradients and probabilistic models: Normal
rsample with fixed noise, log_prob, entropy, kl_divergence, Independent, MultivariateNormal,
Bernoulli, Categorical, transforms and mixtures."""

import numpy as np
import torch
import torch.distributions as D
import torch.nn as nn
from torch.distributions import Normal, kl_divergence


class GaussianPolicy(nn.Module):
    def __init__(self):
        super().__init__()
        self.mu = nn.Linear(3, 2)
        self.log_std = nn.Parameter(torch.zeros(2))

    def forward(self, obs):
        return Normal(self.mu(obs), self.log_std.exp())


def main(sync, workdir):
    rng = np.random.RandomState(0)
    out = {}
    policy = sync(GaussianPolicy())
    opt = torch.optim.Adam(policy.parameters(), lr=0.05)
    obs = torch.from_numpy(rng.randn(5, 3).astype(np.float32))
    actions = torch.from_numpy(rng.randn(5, 2).astype(np.float32))
    advantages = torch.from_numpy(rng.randn(5).astype(np.float32))
    for _ in range(3):
        dist = policy(obs)
        logp = dist.log_prob(actions).sum(-1)
        loss = -(logp * advantages).mean() - 0.01 * dist.entropy().sum(-1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    out["policy"] = [loss, policy.log_std, policy.mu.weight.grad]

    mu = torch.tensor([0.5, -1.0], requires_grad=True)
    sigma = torch.tensor([1.5, 0.3], requires_grad=True)
    q = Normal(mu, sigma)
    p = Normal(torch.zeros(2), torch.ones(2))
    kl = kl_divergence(q, p).sum()
    kl.backward()
    out["kl"] = [kl, mu.grad, sigma.grad]
    out["normal"] = [
        q.mean,
        q.stddev,
        q.variance,
        q.cdf(torch.tensor([0.0, 0.0])),
        q.icdf(torch.tensor([0.3, 0.9])),
        q.entropy(),
    ]
    out["rsample_shape"] = [
        list(q.rsample((4,)).shape),
        list(q.sample().shape),
        q.rsample().requires_grad,
    ]
    ind = D.Independent(Normal(torch.zeros(3, 2), torch.ones(3, 2)), 1)
    out["independent"] = [
        list(ind.batch_shape),
        list(ind.event_shape),
        ind.log_prob(torch.ones(3, 2)),
    ]
    cov = torch.tensor([[2.0, 0.3], [0.3, 0.5]])
    mvn = D.MultivariateNormal(torch.tensor([1.0, -1.0]), covariance_matrix=cov)
    out["mvn"] = [
        mvn.log_prob(torch.tensor([[0.0, 0.0], [1.0, 1.0]])),
        mvn.entropy(),
        mvn.scale_tril,
    ]
    mvn2 = D.MultivariateNormal(torch.zeros(2), scale_tril=torch.linalg.cholesky(cov))
    out["mvn_kl"] = kl_divergence(mvn, mvn2)
    bern = D.Bernoulli(logits=torch.tensor([0.3, -2.0]))
    out["bernoulli"] = [bern.probs, bern.log_prob(torch.tensor([1.0, 0.0])), bern.entropy()]
    cat = D.Categorical(probs=torch.tensor([0.2, 0.5, 0.3]))
    out["categorical"] = [
        cat.log_prob(torch.tensor([0, 1, 2])),
        cat.entropy(),
        cat.logits,
        kl_divergence(cat, D.Categorical(logits=torch.zeros(3))),
    ]
    out["onehot_cat"] = D.OneHotCategorical(probs=torch.tensor([0.2, 0.8])).log_prob(
        torch.tensor([0.0, 1.0])
    )
    beta = D.Beta(torch.tensor([2.0]), torch.tensor([3.0]))
    out["beta"] = [beta.log_prob(torch.tensor([0.4])), beta.mean, beta.entropy()]
    out["gamma"] = D.Gamma(torch.tensor([2.0]), torch.tensor([0.5])).log_prob(torch.tensor([1.5]))
    out["dirichlet"] = D.Dirichlet(torch.tensor([1.0, 2.0, 3.0])).log_prob(
        torch.tensor([0.2, 0.3, 0.5])
    )
    out["poisson"] = D.Poisson(torch.tensor([3.0])).log_prob(torch.tensor([2.0]))
    out["laplace"] = D.Laplace(0.0, 2.0).log_prob(torch.tensor(1.0))
    out["uniform"] = [
        D.Uniform(-1.0, 3.0).log_prob(torch.tensor(0.5)),
        D.Uniform(-1.0, 3.0).entropy(),
    ]
    tanh_normal = D.TransformedDistribution(
        Normal(torch.zeros(2), torch.ones(2)), [D.transforms.TanhTransform(cache_size=1)]
    )
    out["tanh_normal"] = tanh_normal.log_prob(torch.tensor([0.3, -0.5]))
    lognormal = D.LogNormal(0.0, 0.5)
    out["lognormal"] = [lognormal.log_prob(torch.tensor(1.2)), lognormal.mean]
    mix = D.MixtureSameFamily(
        D.Categorical(torch.tensor([0.3, 0.7])),
        Normal(torch.tensor([-1.0, 2.0]), torch.tensor([0.5, 1.0])),
    )
    out["mixture"] = [mix.log_prob(torch.tensor([0.0, 1.5])), mix.mean, mix.variance]
    out["relaxed"] = list(
        D.RelaxedOneHotCategorical(torch.tensor(0.5), probs=torch.tensor([0.3, 0.7]))
        .rsample()
        .shape
    )
    out["binomial"] = D.Binomial(10, probs=torch.tensor([0.3])).log_prob(torch.tensor([4.0]))
    out["studentt"] = D.StudentT(3.0).log_prob(torch.tensor([0.5]))
    return out
