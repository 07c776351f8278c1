"""The parametrizations and pruning tutorials: register_parametrization (symmetric, skew,
matrix exponential, right_inverse), orthogonal/spectral/weight norm, prune.* with masks,
remove, global_unstructured."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.nn.utils.parametrize as parametrize
import torch.nn.utils.prune as prune
from torch.nn.utils import parametrizations


class Symmetric(nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).transpose(-1, -2)


class Skew(nn.Module):
    def forward(self, X):
        A = X.triu(1)
        return A - A.transpose(-1, -2)


class CayleyMap(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.register_buffer("Id", torch.eye(n))

    def forward(self, X):
        return torch.linalg.solve(self.Id - X, self.Id + X)


class MatrixExponential(nn.Module):
    def forward(self, X):
        return torch.matrix_exp(X)


class NoisyParametrization(nn.Module):
    def forward(self, X):
        return X * 2

    def right_inverse(self, A):
        return A / 2


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 3, 3)
        self.conv2 = nn.Conv2d(3, 4, 3)
        self.fc1 = nn.Linear(4 * 2 * 2, 6)
        self.fc2 = nn.Linear(6, 3)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.relu(self.conv2(x))
        x = x.view(-1, int(x.nelement() / x.shape[0]))
        return self.fc2(F.relu(self.fc1(x)))


def main(sync, workdir):
    rng = np.random.RandomState(0)
    out = {}
    layer = sync(nn.Linear(3, 3))
    parametrize.register_parametrization(layer, "weight", Symmetric())
    A = layer.weight
    out["symmetric"] = [A, torch.dist(A, A.T).item() == 0.0, parametrize.is_parametrized(layer)]
    out["param_names"] = [n for n, _ in layer.named_parameters()]
    out["repr_has_parametrizations"] = "ParametrizationList" in repr(layer.parametrizations)
    x = torch.from_numpy(rng.randn(2, 3).astype(np.float32))
    layer(x).sum().backward()
    out["orig_grad"] = layer.parametrizations.weight.original.grad
    with parametrize.cached():
        out["cached"] = layer.weight is layer.weight

    skew = sync(nn.Linear(3, 3))
    parametrize.register_parametrization(skew, "weight", Skew())
    parametrize.register_parametrization(skew, "weight", CayleyMap(3))
    X = skew.weight
    out["cayley_orthogonal"] = torch.allclose(X.T @ X, torch.eye(3), atol=1e-5)
    out["cayley"] = X
    expo = sync(nn.Linear(3, 3))
    parametrize.register_parametrization(expo, "weight", Skew())
    parametrize.register_parametrization(expo, "weight", MatrixExponential())
    out["expm"] = expo.weight
    out["expm_det"] = torch.det(expo.weight)

    noisy = sync(nn.Linear(2, 2))
    parametrize.register_parametrization(noisy, "weight", NoisyParametrization())
    noisy.weight = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    out["right_inverse"] = [noisy.weight, noisy.parametrizations.weight.original]
    parametrize.remove_parametrizations(noisy, "weight", leave_parametrized=True)
    out["removed"] = [type(noisy.weight).__name__, noisy.weight]

    ortho = sync(nn.Linear(4, 4))
    parametrizations.orthogonal(ortho)
    Q = ortho.weight
    out["orthogonal"] = torch.allclose(Q @ Q.T, torch.eye(4), atol=1e-5)
    wn = sync(nn.Linear(4, 3))
    parametrizations.weight_norm(wn, name="weight", dim=0)
    out["weight_norm"] = [
        wn.parametrizations.weight.original0,
        wn.parametrizations.weight.original1,
        wn.weight,
    ]
    sn = sync(nn.Linear(4, 3))
    parametrizations.spectral_norm(sn)
    sn.eval()
    out["spectral_sigma_le_1"] = torch.linalg.matrix_norm(sn.weight, ord=2).item() <= 1.0 + 1e-4

    model = sync(LeNet())
    module = model.conv1
    out["before"] = [n for n, _ in module.named_parameters()]
    prune.l1_unstructured(module, name="weight", amount=0.3)
    out["after"] = [
        [n for n, _ in module.named_parameters()],
        [n for n, _ in module.named_buffers()],
    ]
    out["mask"] = module.weight_mask
    out["pruned_weight"] = module.weight
    out["hooks"] = len(module._forward_pre_hooks)
    prune.ln_structured(module, name="weight", amount=0.5, n=2, dim=0)
    out["structured_mask"] = module.weight_mask
    prune.remove(module, "weight")
    out["removed_params"] = [n for n, _ in module.named_parameters()]
    parameters_to_prune = ((model.conv2, "weight"), (model.fc1, "weight"), (model.fc2, "weight"))
    prune.global_unstructured(parameters_to_prune, pruning_method=prune.L1Unstructured, amount=0.2)
    zeros = sum(float(torch.sum(m.weight == 0)) for m, _ in parameters_to_prune)
    total = sum(float(m.weight.nelement()) for m, _ in parameters_to_prune)
    out["global_sparsity"] = 100.0 * zeros / total
    out["fc1_mask"] = model.fc1.weight_mask
    prune.random_unstructured(model.fc2, name="bias", amount=1)
    out["random_count"] = int(torch.sum(model.fc2.bias_mask == 0))
    prune.identity(model.conv2, "bias")
    out["identity_mask"] = model.conv2.bias_mask
    out["forward"] = model(torch.from_numpy(rng.randn(2, 1, 10, 10).astype(np.float32)))
    out["state_keys"] = list(model.state_dict().keys())
    return out
