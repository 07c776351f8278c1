"""A VAE as in pytorch/examples: reparameterisation, BCE + KL, Adam, sampling the decoder."""

import numpy as np
import torch
import torch.utils.data
from torch import nn, optim
from torch.nn import functional as F


class VAE(nn.Module):
    def __init__(self, d_in=20, hidden=16, latent=4):
        super().__init__()
        self.d_in = d_in
        self.fc1 = nn.Linear(d_in, hidden)
        self.fc21 = nn.Linear(hidden, latent)
        self.fc22 = nn.Linear(hidden, latent)
        self.fc3 = nn.Linear(latent, hidden)
        self.fc4 = nn.Linear(hidden, d_in)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar, eps=None):
        std = torch.exp(0.5 * logvar)
        if eps is None:
            eps = torch.randn_like(std)
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x, eps=None):
        mu, logvar = self.encode(x.view(-1, self.d_in))
        z = self.reparameterize(mu, logvar, eps)
        return self.decode(z), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    BCE = F.binary_cross_entropy(recon_x, x.view(-1, 20), reduction="sum")
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return BCE + KLD


def main(sync, workdir):
    rng = np.random.RandomState(0)
    data = torch.from_numpy((rng.rand(48, 1, 4, 5) > 0.6).astype(np.float32))
    noise = rng.randn(6, 16, 4).astype(np.float32)
    loader = torch.utils.data.DataLoader(data, batch_size=16, shuffle=False)
    model = sync(VAE())
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    out = {"losses": []}
    step = 0
    for epoch in range(2):
        model.train()
        train_loss = 0
        for batch_idx, x in enumerate(loader):
            optimizer.zero_grad()
            recon_batch, mu, logvar = model(x, torch.from_numpy(noise[step]))
            loss = loss_function(recon_batch, x, mu, logvar)
            loss.backward()
            train_loss += loss.item()
            optimizer.step()
            step += 1
        out["losses"].append(train_loss / len(loader.dataset))
    out["fc1_grad"] = model.fc1.weight.grad

    model.eval()
    with torch.no_grad():
        sample = torch.from_numpy(rng.randn(8, 4).astype(np.float32))
        sample = model.decode(sample)
        out["sample"] = sample.view(8, 1, 4, 5)
        recon, mu, logvar = model(data[:8], torch.zeros(8, 4))
        comparison = torch.cat([data[:8], recon.view(8, 1, 4, 5)])
        out["comparison"] = comparison
    z = model.reparameterize(mu, logvar)
    out["random_z_shape"] = list(z.shape)
    return out
