"""Model surgery on a pretrained CNN as fine-tuning guides do it: a backbone rebuilt with
nn.Sequential(*list(model.children())[:-2]), the head replaced via set_submodule/get_submodule
and setattr, a conv's input channels widened by copying and averaging pretrained weights, layers
frozen with requires_grad_(False) and BatchNorm kept in eval through a train() override,
parameter groups with their own lr and weight decay (no decay on biases and norms), a
state_dict loaded with strict=False (missing/unexpected keys inspected, shape-mismatched keys
filtered first), keys renamed with a load_state_dict pre-hook, Sequential insert/append/pop/del,
feature extraction by register_forward_hook over named_modules, a forward pre-hook rewriting the
input, conv-bn fusion with nn.utils.fusion.fuse_conv_bn_eval, and modules swapped in place by
a recursive named_children walk (ReLU -> SiLU)."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.fusion import fuse_conv_bn_eval

TOLERANCE = {"rtol": 3e-4, "atol": 3e-5}


class Net(nn.Module):
    def __init__(self, n_classes=5):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(6)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = nn.Sequential(nn.Conv2d(6, 8, 3, stride=2, padding=1), nn.BatchNorm2d(8),
                                    nn.ReLU())  # fmt: skip
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, n_classes)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.avgpool(self.layer1(x))
        return self.fc(torch.flatten(x, 1))


class FrozenBNNet(Net):
    def train(self, mode=True):
        super().train(mode)
        for m in self.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eval()
        return self


def swap_relu(module):
    for name, child in module.named_children():
        if isinstance(child, nn.ReLU):
            setattr(module, name, nn.SiLU())
        else:
            swap_relu(child)


def main(sync, workdir):
    rng = np.random.RandomState(0)
    x = torch.from_numpy(rng.rand(4, 3, 8, 8).astype(np.float32))
    y = torch.tensor([0, 1, 2, 1])
    out = {}

    pretrained = sync(Net())
    pretrained.train()
    opt = torch.optim.SGD(pretrained.parameters(), lr=0.1)
    F.cross_entropy(pretrained(x), y).backward()
    opt.step()
    state = pretrained.state_dict()
    out["state_keys"] = list(state.keys())

    model = FrozenBNNet(n_classes=3)
    filtered = {k: v for k, v in state.items() if k in model.state_dict()
                and v.shape == model.state_dict()[k].shape}  # fmt: skip
    result = model.load_state_dict(filtered, strict=False)
    out["missing"] = result.missing_keys
    out["unexpected"] = result.unexpected_keys
    extra = dict(state, **{"head.weight": torch.zeros(1)})
    del extra["fc.bias"]
    r2 = Net().load_state_dict(extra, strict=False)
    out["missing2"], out["unexpected2"] = r2.missing_keys, r2.unexpected_keys
    try:
        Net(n_classes=3).load_state_dict(state)
        out["size_mismatch"] = None
    except RuntimeError as e:
        out["size_mismatch"] = "size mismatch for fc.weight" in str(e)

    model.set_submodule("fc", nn.Linear(8, 3))
    model.get_submodule("layer1").insert(2, nn.Dropout(0.0))
    out["layer1"] = [type(m).__name__ for m in model.layer1]
    sync(model)
    conv1_before = model.conv1.weight.clone()
    bn1_before = model.bn1.running_mean.clone()
    for name, p in model.named_parameters():
        if not name.startswith(("fc", "layer1")):
            p.requires_grad_(False)
    decay, no_decay = [], []
    for p in model.parameters():
        if not p.requires_grad:
            continue
        (no_decay if p.ndim <= 1 else decay).append(p)
    opt = torch.optim.AdamW([
        {"params": decay, "weight_decay": 0.05},
        {"params": no_decay, "weight_decay": 0.0, "lr": 3e-3},
    ], lr=1e-3)  # fmt: skip
    model.train()
    out["bn_training"] = [m.training for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    for _ in range(3):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    out["finetune_loss"] = loss
    out["frozen_grad"] = [model.conv1.weight.grad is None, model.bn1.weight.grad is None]
    out["conv1_unchanged"] = torch.equal(model.conv1.weight, conv1_before)
    out["bn_stats_unchanged"] = torch.equal(model.bn1.running_mean, bn1_before)
    out["groups"] = [[len(g["params"]), g["lr"], g["weight_decay"]] for g in opt.param_groups]
    out["n_trainable"] = sum(p.numel() for p in model.parameters() if p.requires_grad)

    # widen the first conv to 4 input channels: copy RGB, init the extra as the mean
    new_conv = nn.Conv2d(4, 6, 3, padding=1, bias=False)
    with torch.no_grad():
        new_conv.weight[:, :3] = model.conv1.weight
        new_conv.weight[:, 3:] = model.conv1.weight.mean(dim=1, keepdim=True)
    model.conv1 = new_conv
    x4 = torch.cat([x, x.mean(1, keepdim=True)], dim=1)
    model.eval()
    with torch.no_grad():
        out["widened"] = model(x4)

    # backbone for features; hooks on every conv
    backbone = nn.Sequential(*list(pretrained.children())[:-2])
    feats = {}
    handles = []
    for name, m in pretrained.named_modules():
        if isinstance(m, nn.Conv2d):
            def hook(mod, inp, output, name=name):
                feats[name] = output.detach()
            handles.append(m.register_forward_hook(hook))
    pretrained.eval()
    with torch.no_grad():
        fmap = backbone(x)
        pretrained(x)
    for h in handles:
        h.remove()
    out["backbone"] = fmap
    out["hooked"] = {k: list(v.shape) for k, v in feats.items()}
    out["hooks_left"] = len(pretrained.conv1._forward_hooks)

    pre = pretrained.fc.register_forward_pre_hook(lambda m, args: (args[0] * 2,))
    with torch.no_grad():
        out["pre_hook"] = pretrained(x)
    pre.remove()

    def rename(module, sd, prefix, local_metadata, strict, missing, unexpected, errors):
        for k in list(sd):
            if k.startswith(prefix + "classifier."):
                sd[prefix + "fc." + k[len(prefix + "classifier."):]] = sd.pop(k)
    renamed = {k.replace("fc.", "classifier."): v for k, v in state.items()}
    target = Net()
    target.register_load_state_dict_pre_hook(rename)
    out["renamed_load"] = [target.load_state_dict(renamed).missing_keys, target.fc.bias]

    fused = fuse_conv_bn_eval(pretrained.conv1, pretrained.bn1)
    with torch.no_grad():
        out["fused"] = [fused(x), pretrained.bn1(pretrained.conv1(x)), fused.bias]

    seq = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    seq.append(nn.Softmax(dim=-1))
    popped = seq.pop(1)
    del seq[0]
    out["seq_edit"] = [type(popped).__name__, [type(m).__name__ for m in seq], len(seq)]
    swap_relu(pretrained)
    out["swapped"] = [type(m).__name__ for m in pretrained.modules()]
    with torch.no_grad():
        out["swapped_out"] = pretrained(x)
    return out
