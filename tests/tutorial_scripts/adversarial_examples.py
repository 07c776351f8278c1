"""Adversarial examples and attributions (the FGSM tutorial and common explainability code):
FGSM with data.requires_grad, F.nll_loss on log_softmax, data.grad.data.sign() and
torch.clamp; a targeted, iterated PGD attack with an L-inf projection through torch.max/min
against tensors and .detach() between steps; adversarial training mixing clean and perturbed
batches; a vanilla saliency map (input gradient, abs, max over channels); SmoothGrad with fixed
noise; integrated gradients along a torch.linspace path with a batched forward; and
gradient x input, with grads zeroed in place between uses."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, kernel_size=3)
        self.conv2 = nn.Conv2d(4, 8, kernel_size=3)
        self.fc1 = nn.Linear(8 * 2 * 2, 16)
        self.fc2 = nn.Linear(16, 3)

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(self.conv2(x))
        x = torch.flatten(F.adaptive_avg_pool2d(x, 2), 1)
        x = F.relu(self.fc1(x))
        return F.log_softmax(self.fc2(x), dim=1)


def fgsm_attack(image, epsilon, data_grad):
    sign_data_grad = data_grad.sign()
    perturbed_image = image + epsilon * sign_data_grad
    return torch.clamp(perturbed_image, 0, 1)


def denorm(batch, mean=[0.1307], std=[0.3081]):
    mean = torch.tensor(mean).view(1, -1, 1, 1)
    std = torch.tensor(std).view(1, -1, 1, 1)
    return batch * std + mean


def pgd_attack(model, images, targets, eps=0.1, alpha=0.02, steps=4, targeted=True):
    adv = images.clone().detach()
    for _ in range(steps):
        adv.requires_grad = True
        loss = F.nll_loss(model(adv), targets)
        grad = torch.autograd.grad(loss, adv, retain_graph=False, create_graph=False)[0]
        step = -alpha * grad.sign() if targeted else alpha * grad.sign()
        adv = adv.detach() + step
        adv = torch.min(torch.max(adv, images - eps), images + eps).clamp(0, 1).detach()
    return adv


def main(sync, workdir):
    rng = np.random.RandomState(0)
    model = sync(Net())
    images = torch.from_numpy(rng.rand(8, 1, 10, 10).astype(np.float32))
    labels = torch.from_numpy(rng.randint(0, 3, size=8))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
    for step in range(5):
        optimizer.zero_grad()
        F.nll_loss(model(images), labels).backward()
        optimizer.step()
    model.eval()
    out = {}

    # FGSM, one image at a time as in the tutorial's test()
    results = []
    for epsilon in [0, 0.05, 0.1]:
        correct, adv_examples = 0, []
        for i in range(4):
            data, target = images[i : i + 1].clone(), labels[i : i + 1]
            data.requires_grad = True
            output = model(data)
            init_pred = output.max(1, keepdim=True)[1]
            loss = F.nll_loss(output, target)
            model.zero_grad()
            loss.backward()
            data_grad = data.grad.data
            data_denorm = denorm(data)
            perturbed_data = fgsm_attack(data_denorm, epsilon, data_grad)
            perturbed_data_normalized = (perturbed_data - 0.1307) / 0.3081
            output = model(perturbed_data_normalized)
            final_pred = output.max(1, keepdim=True)[1]
            if final_pred.item() == target.item():
                correct += 1
            adv_ex = perturbed_data.squeeze().detach().cpu().numpy()
            adv_examples.append((init_pred.item(), final_pred.item(), adv_ex[:2, :2]))
        results.append([epsilon, correct / 4, adv_examples])
    out["fgsm"] = results

    # PGD towards class 0
    adv = pgd_attack(model, images, torch.zeros(8, dtype=torch.long))
    out["pgd"] = [(adv - images).abs().max(), model(adv).argmax(1), adv[0, 0, :3, :3]]

    # adversarial training: half clean, half FGSM batches
    model.train()
    adv_losses = []
    for step in range(3):
        x = images.clone().requires_grad_(True)
        loss = F.nll_loss(model(x), labels)
        (grad,) = torch.autograd.grad(loss, x)
        x_adv = (images + 0.05 * grad.sign()).clamp(0, 1)
        loss = 0.5 * F.nll_loss(model(images), labels) + 0.5 * F.nll_loss(model(x_adv), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        adv_losses.append(loss.item())
    out["adv_training"] = adv_losses
    model.eval()

    # saliency: |d score / d input|, max over channels
    x = images[:2].clone().requires_grad_()
    scores = model(x)
    score_max = scores.gather(1, scores.argmax(1, keepdim=True)).sum()
    score_max.backward()
    saliency, _ = torch.max(x.grad.data.abs(), dim=1)
    out["saliency"] = saliency

    # SmoothGrad: average the gradient over noisy copies (noise from numpy)
    noise = torch.from_numpy(0.1 * rng.randn(5, 1, 10, 10).astype(np.float32))
    x = (images[:1] + noise).requires_grad_()
    model(x)[:, 1].sum().backward()
    out["smoothgrad"] = x.grad.mean(0)

    # integrated gradients against a black baseline
    baseline = torch.zeros_like(images[:1])
    alphas = torch.linspace(0, 1, steps=9).view(-1, 1, 1, 1)
    path = (baseline + alphas * (images[:1] - baseline)).requires_grad_(True)
    target_class = 2
    outputs = model(path)[:, target_class]
    grads = torch.autograd.grad(outputs.sum(), path)[0]
    avg_grads = (grads[:-1] + grads[1:]).div(2).mean(dim=0, keepdim=True)
    attributions = (images[:1] - baseline) * avg_grads
    out["integrated_gradients"] = [
        attributions,
        attributions.sum(),
        (outputs[-1] - outputs[0]).detach(),  # completeness: close to the sum above
    ]

    # gradient x input, reusing one leaf and zeroing its grad in place
    x = images[:3].clone().requires_grad_()
    maps = []
    for c in range(3):
        if x.grad is not None:
            x.grad.zero_()
        model(x)[:, c].sum().backward()
        maps.append((x.grad * x).sum(dim=(1, 2, 3)).detach())
    out["grad_times_input"] = torch.stack(maps, 1)
    return out
