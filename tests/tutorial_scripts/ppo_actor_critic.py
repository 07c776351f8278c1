"""PPO and advantage actor-critic as in the popular single-file implementations (CleanRL style):
an ActorCritic with orthogonal layer_init and constant biases, a Normal policy with a learned
state-independent log_std (log_prob and entropy summed over action dims), a Categorical head for
discrete actions, generalised advantage estimation in a reversed loop with done masks, advantage
normalisation, the clipped surrogate and clipped value loss, approx_kl and clip fraction
diagnostics, minibatch epochs over a permutation, clip_grad_norm_, and an A2C update with
the entropy bonus. Actions come from the data, not from .sample(), so both runs agree."""

import numpy as np
import torch
import torch.nn as nn
from torch.distributions.categorical import Categorical
from torch.distributions.normal import Normal


def layer_init(layer, std=np.sqrt(2), bias_const=0.0):
    torch.nn.init.orthogonal_(layer.weight, std)
    torch.nn.init.constant_(layer.bias, bias_const)
    return layer


class Agent(nn.Module):
    def __init__(self, obs_dim, act_dim):
        super().__init__()
        self.critic = nn.Sequential(
            layer_init(nn.Linear(obs_dim, 16)), nn.Tanh(),
            layer_init(nn.Linear(16, 16)), nn.Tanh(),
            layer_init(nn.Linear(16, 1), std=1.0),
        )  # fmt: skip
        self.actor_mean = nn.Sequential(
            layer_init(nn.Linear(obs_dim, 16)), nn.Tanh(),
            layer_init(nn.Linear(16, act_dim), std=0.01),
        )  # fmt: skip
        self.actor_logstd = nn.Parameter(torch.zeros(1, act_dim))

    def get_value(self, x):
        return self.critic(x)

    def get_action_and_value(self, x, action=None):
        action_mean = self.actor_mean(x)
        action_logstd = self.actor_logstd.expand_as(action_mean)
        probs = Normal(action_mean, torch.exp(action_logstd))
        if action is None:
            action = probs.sample()
        return action, probs.log_prob(action).sum(1), probs.entropy().sum(1), self.critic(x)


class DiscreteActorCritic(nn.Module):
    def __init__(self, obs_dim, n_actions):
        super().__init__()
        self.shared = nn.Sequential(nn.Linear(obs_dim, 16), nn.ReLU())
        self.policy = nn.Linear(16, n_actions)
        self.value = nn.Linear(16, 1)

    def forward(self, x):
        h = self.shared(x)
        return Categorical(logits=self.policy(h)), self.value(h).squeeze(-1)


def compute_gae(rewards, values, dones, next_value, next_done, gamma=0.99, gae_lambda=0.95):
    num_steps = rewards.size(0)
    advantages = torch.zeros_like(rewards)
    lastgaelam = 0
    for t in reversed(range(num_steps)):
        if t == num_steps - 1:
            nextnonterminal = 1.0 - next_done
            nextvalues = next_value
        else:
            nextnonterminal = 1.0 - dones[t + 1]
            nextvalues = values[t + 1]
        delta = rewards[t] + gamma * nextvalues * nextnonterminal - values[t]
        advantages[t] = lastgaelam = delta + gamma * gae_lambda * nextnonterminal * lastgaelam
    return advantages, advantages + values


def main(sync, workdir):
    rng = np.random.RandomState(0)
    num_steps, num_envs, obs_dim, act_dim = 8, 2, 4, 2
    agent = sync(Agent(obs_dim, act_dim))
    optimizer = torch.optim.Adam(agent.parameters(), lr=3e-4, eps=1e-5)
    obs = torch.from_numpy(rng.randn(num_steps, num_envs, obs_dim).astype(np.float32))
    actions = torch.from_numpy(rng.randn(num_steps, num_envs, act_dim).astype(np.float32))
    rewards = torch.from_numpy(rng.rand(num_steps, num_envs).astype(np.float32))
    dones = torch.from_numpy((rng.rand(num_steps, num_envs) < 0.2).astype(np.float32))
    with torch.no_grad():
        _, logprobs, _, values = agent.get_action_and_value(
            obs.reshape(-1, obs_dim), actions.reshape(-1, act_dim)
        )
        logprobs = logprobs.reshape(num_steps, num_envs)
        values = values.reshape(num_steps, num_envs)
        next_obs = torch.from_numpy(rng.randn(num_envs, obs_dim).astype(np.float32))
        next_value = agent.get_value(next_obs).reshape(1, -1)
        advantages, returns = compute_gae(rewards, values, dones, next_value, torch.zeros(num_envs))

    b_obs, b_actions = obs.reshape((-1, obs_dim)), actions.reshape((-1, act_dim))
    b_logprobs, b_advantages = logprobs.reshape(-1), advantages.reshape(-1)
    b_returns, b_values = returns.reshape(-1), values.reshape(-1)
    batch_size, minibatch_size, clip_coef = num_steps * num_envs, 8, 0.2
    b_inds = np.arange(batch_size)
    clipfracs, stats = [], []
    for epoch in range(3):
        rng.shuffle(b_inds)
        for start in range(0, batch_size, minibatch_size):
            mb_inds = b_inds[start : start + minibatch_size]
            _, newlogprob, entropy, newvalue = agent.get_action_and_value(
                b_obs[mb_inds], b_actions[mb_inds]
            )
            logratio = newlogprob - b_logprobs[mb_inds]
            ratio = logratio.exp()
            with torch.no_grad():
                old_approx_kl = (-logratio).mean()
                approx_kl = ((ratio - 1) - logratio).mean()
                clipfracs += [((ratio - 1.0).abs() > clip_coef).float().mean().item()]
            mb_advantages = b_advantages[mb_inds]
            mb_advantages = (mb_advantages - mb_advantages.mean()) / (mb_advantages.std() + 1e-8)
            pg_loss1 = -mb_advantages * ratio
            pg_loss2 = -mb_advantages * torch.clamp(ratio, 1 - clip_coef, 1 + clip_coef)
            pg_loss = torch.max(pg_loss1, pg_loss2).mean()
            newvalue = newvalue.view(-1)
            v_loss_unclipped = (newvalue - b_returns[mb_inds]) ** 2
            v_clipped = b_values[mb_inds] + torch.clamp(
                newvalue - b_values[mb_inds], -clip_coef, clip_coef
            )
            v_loss_clipped = (v_clipped - b_returns[mb_inds]) ** 2
            v_loss = 0.5 * torch.max(v_loss_unclipped, v_loss_clipped).mean()
            entropy_loss = entropy.mean()
            loss = pg_loss - 0.01 * entropy_loss + v_loss * 0.5
            optimizer.zero_grad()
            loss.backward()
            grad_norm = nn.utils.clip_grad_norm_(agent.parameters(), 0.5)
            optimizer.step()
            stats.append([pg_loss.item(), v_loss.item(), entropy_loss.item(),
                          old_approx_kl.item(), approx_kl.item(), grad_norm.item()])  # fmt: skip
    y_pred, y_true = b_values.numpy(), b_returns.numpy()
    var_y = np.var(y_true)
    out = {
        "advantages": advantages,
        "returns": returns,
        "stats": stats,
        "clipfracs": clipfracs,
        "explained_variance": float(np.nan if var_y == 0 else 1 - np.var(y_true - y_pred) / var_y),
        "logstd": agent.actor_logstd,
        "critic_last": agent.critic[4].weight,
    }

    # A2C with a discrete action space
    ac = sync(DiscreteActorCritic(obs_dim, 3))
    opt = torch.optim.RMSprop(ac.parameters(), lr=7e-4, alpha=0.99, eps=1e-5)
    states = torch.from_numpy(rng.randn(6, obs_dim).astype(np.float32))
    taken = torch.from_numpy(rng.randint(0, 3, size=6))
    rewards = rng.rand(6).tolist()
    dist, values = ac(states)
    R, returns = 0.0, []
    for r in reversed(rewards):
        R = r + 0.9 * R
        returns.insert(0, R)
    returns = torch.tensor(returns)
    advantage = returns - values
    actor_loss = -(dist.log_prob(taken) * advantage.detach()).mean()
    critic_loss = advantage.pow(2).mean()
    entropy = dist.entropy().mean()
    loss = actor_loss + 0.5 * critic_loss - 0.01 * entropy
    opt.zero_grad()
    loss.backward()
    opt.step()
    out["a2c"] = [actor_loss, critic_loss, entropy, dist.probs, ac.policy.weight]
    sample = dist.sample()
    out["sample_shape"] = list(sample.shape)
    out["sample_in_range"] = bool(((sample >= 0) & (sample < 3)).all())
    return out
