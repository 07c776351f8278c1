"""Reinforcement learning snippets: a DQN update (replay memory of namedtuples, gather,
max(1).values, SmoothL1Loss, soft target update through state_dict) and REINFORCE with
Categorical (log_prob, normalised returns)."""

import random
from collections import deque, namedtuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.distributions import Categorical

Transition = namedtuple("Transition", ("state", "action", "next_state", "reward"))


class ReplayMemory:
    def __init__(self, capacity):
        self.memory = deque([], maxlen=capacity)

    def push(self, *args):
        self.memory.append(Transition(*args))

    def sample(self, batch_size, rng):
        return rng.sample(list(self.memory), batch_size)

    def __len__(self):
        return len(self.memory)


class DQN(nn.Module):
    def __init__(self, n_observations, n_actions):
        super().__init__()
        self.layer1 = nn.Linear(n_observations, 16)
        self.layer2 = nn.Linear(16, 16)
        self.layer3 = nn.Linear(16, n_actions)

    def forward(self, x):
        x = F.relu(self.layer1(x))
        x = F.relu(self.layer2(x))
        return self.layer3(x)


class Policy(nn.Module):
    def __init__(self):
        super().__init__()
        self.affine1 = nn.Linear(4, 16)
        self.affine2 = nn.Linear(16, 2)
        self.saved_log_probs = []
        self.rewards = []

    def forward(self, x):
        x = F.relu(self.affine1(x))
        action_scores = self.affine2(x)
        return F.softmax(action_scores, dim=1)


def main(sync, workdir):
    rng = np.random.RandomState(0)
    py_rng = random.Random(0)
    BATCH_SIZE, GAMMA, TAU = 8, 0.99, 0.005
    policy_net = sync(DQN(4, 2))
    target_net = DQN(4, 2)
    target_net.load_state_dict(policy_net.state_dict())
    optimizer = optim.AdamW(policy_net.parameters(), lr=1e-3, amsgrad=True)
    memory = ReplayMemory(100)
    for t in range(20):
        state = torch.tensor(rng.randn(4).astype(np.float32)).unsqueeze(0)
        with torch.no_grad():
            action = policy_net(state).max(1).indices.view(1, 1)
        next_state = (
            None if t % 7 == 6 else torch.tensor(rng.randn(4), dtype=torch.float32).unsqueeze(0)
        )
        reward = torch.tensor([float(rng.rand())])
        memory.push(state, action, next_state, reward)
    losses = []
    for step in range(3):
        transitions = memory.sample(BATCH_SIZE, py_rng)
        batch = Transition(*zip(*transitions))
        non_final_mask = torch.tensor(
            tuple(map(lambda s: s is not None, batch.next_state)), dtype=torch.bool
        )
        non_final_next_states = torch.cat([s for s in batch.next_state if s is not None])
        state_batch = torch.cat(batch.state)
        action_batch = torch.cat(batch.action)
        reward_batch = torch.cat(batch.reward)
        state_action_values = policy_net(state_batch).gather(1, action_batch)
        next_state_values = torch.zeros(BATCH_SIZE)
        with torch.no_grad():
            next_state_values[non_final_mask] = target_net(non_final_next_states).max(1).values
        expected_state_action_values = (next_state_values * GAMMA) + reward_batch
        criterion = nn.SmoothL1Loss()
        loss = criterion(state_action_values, expected_state_action_values.unsqueeze(1))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_value_(policy_net.parameters(), 100)
        optimizer.step()
        target_net_state_dict = target_net.state_dict()
        policy_net_state_dict = policy_net.state_dict()
        for key in policy_net_state_dict:
            target_net_state_dict[key] = policy_net_state_dict[key] * TAU + target_net_state_dict[
                key
            ] * (1 - TAU)
        target_net.load_state_dict(target_net_state_dict)
        losses.append(loss.item())
    out = {"dqn_losses": losses, "target": target_net.state_dict(), "mask": non_final_mask}
    out["amsgrad_state"] = sorted(optimizer.state_dict()["state"][0].keys())

    policy = sync(Policy())
    optimizer = optim.Adam(policy.parameters(), lr=1e-2)
    eps = np.finfo(np.float32).eps.item()
    for t in range(6):
        state = torch.from_numpy(rng.randn(4).astype(np.float32)).float().unsqueeze(0)
        probs = policy(state)
        m = Categorical(probs)
        action = torch.tensor([t % 2])  # sampling differs between generators: fix the actions
        sample = m.sample()
        assert sample.shape == (1,) and 0 <= sample.item() < 2
        policy.saved_log_probs.append(m.log_prob(action))
        policy.rewards.append(float(rng.rand()))
    R, policy_loss, returns = 0, [], deque()
    for r in policy.rewards[::-1]:
        R = r + 0.99 * R
        returns.appendleft(R)
    returns = torch.tensor(returns)
    returns = (returns - returns.mean()) / (returns.std() + eps)
    for log_prob, R in zip(policy.saved_log_probs, returns):
        policy_loss.append(-log_prob * R)
    optimizer.zero_grad()
    policy_loss = torch.cat(policy_loss).sum()
    policy_loss.backward()
    optimizer.step()
    out["reinforce"] = [policy_loss, returns, policy.affine1.weight.grad]
    dist = Categorical(logits=torch.tensor([[0.1, 0.5, -0.2], [1.0, 0.0, 0.0]]))
    out["categorical"] = [dist.entropy(), dist.probs, dist.log_prob(torch.tensor([2, 0]))]
    return out
