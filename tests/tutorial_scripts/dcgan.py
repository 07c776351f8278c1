"""DCGAN training steps: ConvTranspose2d generator, BatchNorm2d, LeakyReLU, BCELoss, two Adams."""

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim

nz, ngf, ndf, nc = 8, 4, 4, 3


def weights_init(m):
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        nn.init.normal_(m.weight.data, 0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        nn.init.normal_(m.weight.data, 1.0, 0.02)
        nn.init.constant_(m.bias.data, 0)


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 4, 4, 1, 0, bias=False),  # (ngf*4) x 4 x 4
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),  # (ngf*2) x 8 x 8
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, nc, 4, 2, 1, bias=False),  # nc x 16 x 16
            nn.Tanh(),
        )

    def forward(self, input):
        return self.main(input)


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),  # ndf x 8 x 8
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),  # (ndf*2) x 4 x 4
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, 1, 4, 1, 0, bias=False),  # 1 x 1 x 1
            nn.Sigmoid(),
        )

    def forward(self, input):
        return self.main(input)


def main(sync, workdir):
    rng = np.random.RandomState(0)
    device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    netG = Generator().to(device)
    netG.apply(weights_init)
    netG = sync(netG)
    netD = Discriminator().to(device)
    netD.apply(weights_init)
    netD = sync(netD)
    criterion = nn.BCELoss()
    fixed_noise = torch.from_numpy(rng.randn(4, nz, 1, 1).astype(np.float32))
    real_label, fake_label = 1.0, 0.0
    optimizerD = optim.Adam(netD.parameters(), lr=2e-3, betas=(0.5, 0.999))
    optimizerG = optim.Adam(netG.parameters(), lr=2e-3, betas=(0.5, 0.999))
    G_losses, D_losses, D_x_list = [], [], []
    for i in range(3):
        data = torch.from_numpy(rng.rand(6, nc, 16, 16).astype(np.float32) * 2 - 1)
        # (1) Update D: maximize log(D(x)) + log(1 - D(G(z)))
        netD.zero_grad()
        real_cpu = data.to(device)
        b_size = real_cpu.size(0)
        label = torch.full((b_size,), real_label, dtype=torch.float, device=device)
        output = netD(real_cpu).view(-1)
        errD_real = criterion(output, label)
        errD_real.backward()
        D_x = output.mean().item()
        noise = torch.from_numpy(rng.randn(b_size, nz, 1, 1).astype(np.float32))
        fake = netG(noise)
        label.fill_(fake_label)
        output = netD(fake.detach()).view(-1)
        errD_fake = criterion(output, label)
        errD_fake.backward()
        D_G_z1 = output.mean().item()
        errD = errD_real + errD_fake
        optimizerD.step()
        # (2) Update G: maximize log(D(G(z)))
        netG.zero_grad()
        label.fill_(real_label)
        output = netD(fake).view(-1)
        errG = criterion(output, label)
        errG.backward()
        D_G_z2 = output.mean().item()
        optimizerG.step()
        G_losses.append(errG.item())
        D_losses.append(errD.item())
        D_x_list.append([D_x, D_G_z1, D_G_z2])
    with torch.no_grad():
        fake = netG(fixed_noise).detach().cpu()
    netG.eval()
    with torch.no_grad():
        fake_eval = netG(fixed_noise)
    return {
        "G_losses": G_losses,
        "D_losses": D_losses,
        "D_x": D_x_list,
        "fake": fake,
        "fake_eval": fake_eval,
        "bn_running": [
            netG.main[1].running_mean,
            netG.main[1].running_var,
            netD.main[3].running_var,
        ],
        "num_batches_tracked": netD.main[3].num_batches_tracked,
        "convT_grad": netG.main[0].weight.grad,
    }
