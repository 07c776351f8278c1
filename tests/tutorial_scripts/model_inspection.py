"""Looking inside a model: weight-init loops over modules() with isinstance checks
(trunc_normal_, orthogonal_, xavier, kaiming, zeros_, per-gate LSTM init), a torchsummary-style
table from forward hooks, parameter counts by named_parameters/named_modules, frozen layers,
Grad-CAM from a forward hook and register_full_backward_hook, saliency maps from input
gradients, feature extraction with hooks, and hook handles removed afterwards."""

from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

TOLERANCE = {"rtol": 3e-4, "atol": 3e-5}


class SmallCNN(nn.Module):
    def __init__(self, num_classes=4):
        super().__init__()
        self.features = nn.Sequential(
            OrderedDict(
                conv1=nn.Conv2d(3, 6, 3, padding=1),
                bn1=nn.BatchNorm2d(6),
                relu1=nn.ReLU(),
                pool=nn.MaxPool2d(2),
                conv2=nn.Conv2d(6, 8, 3, padding=1),
                relu2=nn.ReLU(),
            )
        )
        self.rnn = nn.LSTM(8, 5, batch_first=True)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.classifier = nn.Sequential(nn.Dropout(0.0), nn.Linear(8 + 5, num_classes))
        self.emb = nn.Embedding(10, 4)

    def forward(self, x):
        f = self.features(x)  # (B, 8, 4, 4)
        seq = f.flatten(2).transpose(1, 2)  # (B, 16, 8)
        _, (h, _) = self.rnn(seq)
        pooled = torch.flatten(self.avgpool(f), 1)
        return self.classifier(torch.cat([pooled, h[-1]], dim=1))


def init_weights(model):
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LSTM):
            for name, param in m.named_parameters():
                if "weight_ih" in name:
                    nn.init.xavier_uniform_(param.data)
                elif "weight_hh" in name:
                    nn.init.orthogonal_(param.data)
                elif "bias" in name:
                    param.data.fill_(0)
                    n = param.size(0)
                    param.data[n // 4 : n // 2].fill_(1.0)  # forget gate bias
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, mean=0.0, std=0.1)


def summary(model, input_size):
    rows, hooks = [], []

    def register_hook(module):
        def hook(module, input, output):
            class_name = str(module.__class__).split(".")[-1].split("'")[0]
            if isinstance(output, (list, tuple)):
                output = output[0]
            params = sum(p.numel() for p in module.parameters(recurse=False))
            rows.append((f"{class_name}-{len(rows) + 1}", list(output.size()), params))

        if not isinstance(module, (nn.Sequential, nn.ModuleList)) and module is not model:
            hooks.append(module.register_forward_hook(hook))

    model.apply(register_hook)
    with torch.no_grad():
        model(torch.zeros(2, *input_size))
    for h in hooks:
        h.remove()
    return rows


class GradCAM:
    def __init__(self, model, target_layer):
        self.model = model
        self.activations = None
        self.gradients = None
        self.handles = [
            target_layer.register_forward_hook(self.save_activation),
            target_layer.register_full_backward_hook(self.save_gradient),
        ]

    def save_activation(self, module, input, output):
        self.activations = output.detach()

    def save_gradient(self, module, grad_input, grad_output):
        self.gradients = grad_output[0].detach()

    def __call__(self, x, class_idx=None):
        logits = self.model(x)
        if class_idx is None:
            class_idx = logits.argmax(dim=1)
        self.model.zero_grad()
        score = logits.gather(1, class_idx.view(-1, 1)).sum()
        score.backward()
        weights = self.gradients.mean(dim=(2, 3), keepdim=True)  # (B, C, 1, 1)
        cam = F.relu((weights * self.activations).sum(dim=1, keepdim=True))
        cam = F.interpolate(cam, size=x.shape[-2:], mode="bilinear", align_corners=False)
        b = cam.size(0)
        flat = cam.view(b, -1)
        lo, hi = flat.min(1, keepdim=True)[0], flat.max(1, keepdim=True)[0]
        cam = ((flat - lo) / (hi - lo + 1e-8)).view_as(cam)
        return cam, logits

    def remove(self):
        for h in self.handles:
            h.remove()


def main(sync, workdir):
    rng = np.random.RandomState(0)
    model = SmallCNN()
    init_weights(model)
    out = {}
    w_hh = model.rnn.weight_hh_l0.detach()
    out["orthogonal"] = torch.allclose(w_hh.t() @ w_hh, torch.eye(5), atol=1e-5)
    w = model.classifier[1].weight
    out["trunc_range"] = bool((w.abs() <= 2.0).all())
    out["forget_bias"] = model.rnn.bias_ih_l0[5:10]
    model = sync(model)

    # counting parameters the ways people do
    out["total"] = sum(p.numel() for p in model.parameters())
    for p in model.features.parameters():
        p.requires_grad = False
    out["trainable"] = sum(p.numel() for p in model.parameters() if p.requires_grad)
    for p in model.features.parameters():
        p.requires_grad_(True)
    out["per_module"] = {
        name: sum(p.numel() for p in m.parameters())
        for name, m in model.named_modules()
        if len(list(m.children())) == 0 and name
    }
    out["named"] = [(n, list(p.shape), p.requires_grad) for n, p in model.named_parameters()]
    out["module_types"] = [type(m).__name__ for _, m in model.named_modules()][:6]
    out["children"] = [n for n, _ in model.named_children()]
    out["leaf_convs"] = [n for n, m in model.named_modules() if isinstance(m, nn.Conv2d)]
    out["summary"] = summary(model, (3, 8, 8))
    out["repr_line"] = repr(model).splitlines()[2]
    out["size_mb"] = sum(p.numel() * p.element_size() for p in model.parameters()) / 1024**2
    out["buffers"] = sum(b.numel() for b in model.buffers())
    out["get_submodule"] = repr(model.get_submodule("features.conv2"))
    out["get_parameter"] = model.get_parameter("classifier.1.bias").shape

    # Grad-CAM on the last conv, in eval mode
    model.eval()
    x = torch.from_numpy(rng.rand(2, 3, 8, 8).astype(np.float32))
    cam = GradCAM(model, model.features.conv2)
    heat, logits = cam(x)
    out["cam"] = [heat, logits, cam.gradients, cam.activations]
    cam.remove()
    out["hooks_removed"] = len(model.features.conv2._forward_hooks) == 0 and len(
        model.features.conv2._backward_hooks
    ) == 0

    # saliency: gradient of the top score with respect to the input
    inp = x.clone().requires_grad_(True)
    scores = model(inp)
    top = scores.max(dim=1).values
    top.sum().backward()
    out["saliency"] = inp.grad.abs().amax(dim=1)

    # intermediate features through a forward hook dictionary
    features = {}

    def get_features(name):
        def hook(model, input, output):
            features[name] = output.detach()

        return hook

    handles = [
        model.features.pool.register_forward_hook(get_features("pool")),
        model.avgpool.register_forward_hook(get_features("avgpool")),
    ]
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    out["features"] = features
    # a forward pre-hook that rescales the input, and one that returns nothing
    calls = []
    h1 = model.classifier.register_forward_pre_hook(lambda m, inp: (inp[0] * 0.5,))
    h2 = model.features.register_forward_pre_hook(lambda m, inp: calls.append(inp[0].shape))
    with torch.no_grad():
        out["prehook"] = model(x)
    h1.remove()
    h2.remove()
    out["calls"] = [list(s) for s in calls]
    # gradient flow check: mean |grad| per layer, as plotted in debugging posts
    model.train()
    model.zero_grad()
    F.cross_entropy(model(x), torch.tensor([1, 3])).backward()
    out["grad_flow"] = {
        n: p.grad.abs().mean() if p.grad is not None else None
        for n, p in model.named_parameters()
        if p.requires_grad and "bias" not in n
    }
    return out
