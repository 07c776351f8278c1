"""Stanford CS231n-style PyTorch assignments: a vectorised softmax loss and SVM hinge loss
checked with a centred-difference numeric gradient over np.nditer in float64, a two-layer net
with parameters from random_weight (torch.randn * sqrt(2 / fan_in), w.requires_grad = True),
a barebones three-layer convnet with F.conv2d(padding=2), flatten by x.view(N, -1), manual
SGD under torch.no_grad(), check_accuracy via scores.max(1), the nn.Module and nn.Sequential
versions with nn.init.kaiming_normal_, and network visualisation: saliency maps from
scores.gather(1, y.view(-1, 1)).squeeze() and X.grad.abs().max(dim=1), a fooling image by
gradient ascent on img.data, and class visualisation with jitter by torch.cat of slices and
img.data.clamp_."""

from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

dtype = torch.float32
device = torch.device("cpu")


def softmax_loss_vectorized(W, X, y, reg):
    num_train = X.shape[0]
    scores = X.mm(W)
    scores = scores - scores.max(dim=1, keepdim=True)[0]
    exp_scores = torch.exp(scores)
    probs = exp_scores / exp_scores.sum(dim=1, keepdim=True)
    loss = -torch.log(probs[torch.arange(num_train), y]).sum() / num_train
    loss += reg * torch.sum(W * W)
    dscores = probs.clone()
    dscores[torch.arange(num_train), y] -= 1
    dW = X.t().mm(dscores) / num_train + 2 * reg * W
    return loss, dW


def svm_loss_vectorized(W, X, y, reg):
    num_train = X.shape[0]
    scores = X @ W
    correct = scores[range(num_train), y].view(-1, 1)
    margins = torch.clamp(scores - correct + 1, min=0)
    margins[range(num_train), y] = 0
    loss = margins.sum() / num_train + reg * (W ** 2).sum()
    binary = (margins > 0).to(W.dtype)
    binary[range(num_train), y] = -binary.sum(dim=1)
    dW = X.T @ binary / num_train + 2 * reg * W
    return loss, dW


def eval_numerical_gradient(f, x, h=1e-5):
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        oldval = x[ix]
        x[ix] = oldval + h
        fxph = f(x)
        x[ix] = oldval - h
        fxmh = f(x)
        x[ix] = oldval
        grad[ix] = (fxph - fxmh) / (2 * h)
        it.iternext()
    return grad


def rel_error(x, y):
    return np.max(np.abs(x - y) / (np.maximum(1e-8, np.abs(x) + np.abs(y))))


def gradient_checks(rng):
    W = rng.randn(6, 4) * 0.01
    X = torch.tensor(rng.randn(10, 6))
    y = torch.tensor(rng.randint(0, 4, 10))
    out = {}
    for name, fn in (("softmax", softmax_loss_vectorized), ("svm", svm_loss_vectorized)):
        loss, dW = fn(torch.tensor(W), X, y, 0.1)
        Wt = torch.tensor(W, requires_grad=True)
        auto_loss, _ = fn(Wt, X, y, 0.1)
        auto_loss.backward()
        num = eval_numerical_gradient(lambda w: fn(torch.tensor(w), X, y, 0.1)[0].item(),
                                      W.copy())
        out[name] = {
            "loss": loss,
            "dW": dW,
            "autograd": Wt.grad,
            "rel_err_small": bool(rel_error(num, dW.numpy()) < 1e-6),
            "dtype": str(dW.dtype),
        }
    return out


def flatten(x):
    N = x.shape[0]
    return x.view(N, -1)


def random_weight(shape, rng):
    if len(shape) == 2:
        fan_in = shape[0]
    else:
        fan_in = np.prod(shape[1:])
    w = torch.tensor(rng.randn(*shape), device=device, dtype=dtype) * np.sqrt(2.0 / fan_in)
    w.requires_grad = True
    return w


def zero_weight(shape):
    return torch.zeros(shape, device=device, dtype=dtype, requires_grad=True)


def two_layer_fc(x, params):
    x = flatten(x)
    w1, w2 = params
    x = F.relu(x.mm(w1))
    x = x.mm(w2)
    return x


def three_layer_convnet(x, params):
    conv_w1, conv_b1, conv_w2, conv_b2, fc_w, fc_b = params
    x = F.relu(F.conv2d(x, conv_w1, conv_b1, padding=2))
    x = F.relu(F.conv2d(x, conv_w2, conv_b2, padding=1))
    x = flatten(x)
    return x.mm(fc_w) + fc_b


def check_accuracy_part2(loader, model_fn, params):
    num_correct, num_samples = 0, 0
    with torch.no_grad():
        for x, y in loader:
            x = x.to(device=device, dtype=dtype)
            y = y.to(device=device, dtype=torch.int64)
            scores = model_fn(x, params)
            _, preds = scores.max(1)
            num_correct += (preds == y).sum()
            num_samples += preds.size(0)
        acc = float(num_correct) / num_samples
    return acc, num_correct


def train_part2(model_fn, params, learning_rate, loader):
    losses = []
    for t, (x, y) in enumerate(loader):
        x = x.to(device=device, dtype=dtype)
        y = y.to(device=device, dtype=torch.long)
        scores = model_fn(x, params)
        loss = F.cross_entropy(scores, y)
        loss.backward()
        with torch.no_grad():
            for w in params:
                w -= learning_rate * w.grad
                w.grad.zero_()
        losses.append(loss.item())
    return losses


class ThreeLayerConvNet(nn.Module):
    def __init__(self, in_channel, channel_1, channel_2, num_classes):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channel, channel_1, 5, padding=2)
        nn.init.kaiming_normal_(self.conv1.weight)
        self.conv2 = nn.Conv2d(channel_1, channel_2, 3, padding=1)
        nn.init.kaiming_normal_(self.conv2.weight)
        self.fc = nn.Linear(channel_2 * 8 * 8, num_classes)
        nn.init.kaiming_normal_(self.fc.weight)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        return self.fc(flatten(x))


def train_part34(model, optimizer, loader, epochs=1):
    model = model.to(device=device)
    losses = []
    for e in range(epochs):
        for t, (x, y) in enumerate(loader):
            model.train()
            x = x.to(device=device, dtype=dtype)
            y = y.to(device=device, dtype=torch.long)
            scores = model(x)
            loss = F.cross_entropy(scores, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return losses


def compute_saliency_maps(X, y, model):
    model.eval()
    X.requires_grad_()
    scores = model(X)
    scores = scores.gather(1, y.view(-1, 1)).squeeze()
    scores.backward(torch.ones(scores.shape))
    saliency, _ = torch.max(X.grad.abs(), dim=1)
    return saliency


def make_fooling_image(X, target_y, model, steps=5):
    X_fooling = X.clone()
    X_fooling = X_fooling.requires_grad_()
    learning_rate = 1
    preds = []
    for _ in range(steps):
        scores = model(X_fooling)
        preds.append(int(scores.data.max(1)[1][0]))
        target_score = scores[0, target_y]
        target_score.backward()
        g = X_fooling.grad.data
        dX = learning_rate * g / g.norm()
        X_fooling.data += dX
        X_fooling.grad.data.zero_()
    return X_fooling.detach(), preds


def jitter(X, ox, oy):
    if ox != 0:
        left = X[:, :, :, :-ox]
        right = X[:, :, :, -ox:]
        X = torch.cat([right, left], dim=3)
    if oy != 0:
        top = X[:, :, :-oy]
        bottom = X[:, :, -oy:]
        X = torch.cat([bottom, top], dim=2)
    return X


def create_class_visualization(target_y, model, img, rng, l2_reg=1e-3, learning_rate=5):
    img = img.clone().requires_grad_()
    for t in range(4):
        ox, oy = rng.randint(0, 3, 2)
        img.data.copy_(jitter(img.data, ox, oy))
        score = model(img)[0, target_y] - l2_reg * img.norm() ** 2
        score.backward()
        img.data += learning_rate * img.grad.data / img.grad.data.norm()
        img.grad.data.zero_()
        img.data.copy_(jitter(img.data, -ox, -oy))
        img.data[:, 0].clamp_(min=-1.5, max=1.5)
        img.data[:, 1:].clamp_(min=-1.0, max=1.0)
    return img.detach()


def main(sync, workdir):
    rng = np.random.RandomState(0)
    out = {"grad_checks": gradient_checks(rng)}
    x_np = rng.randn(32, 3, 8, 8).astype(np.float32)
    y_np = rng.randint(0, 10, 32)
    loader = [(torch.tensor(x_np[i : i + 8]), torch.tensor(y_np[i : i + 8]))
              for i in range(0, 32, 8)]

    w1 = random_weight((3 * 8 * 8, 16), rng)
    w2 = random_weight((16, 10), rng)
    out["two_layer_shape"] = list(two_layer_fc(torch.zeros((4, 3, 8, 8), dtype=dtype),
                                               [w1, w2]).size())
    out["two_layer_losses"] = train_part2(two_layer_fc, [w1, w2], 1e-2, loader)
    out["two_layer_acc"] = check_accuracy_part2(loader, two_layer_fc, [w1, w2])

    params = [random_weight((6, 3, 5, 5), rng), zero_weight((6,)),
              random_weight((4, 6, 3, 3), rng), zero_weight((4,)),
              random_weight((4 * 8 * 8, 10), rng), zero_weight((10,))]
    out["convnet_losses"] = train_part2(three_layer_convnet, params, 3e-3, loader)
    out["convnet_b1"] = params[1]

    model = sync(ThreeLayerConvNet(3, 6, 4, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9, nesterov=True)
    out["module_losses"] = train_part34(model, optimizer, loader, epochs=2)

    seq = sync(nn.Sequential(OrderedDict([
        ("flatten", nn.Flatten()),
        ("fc1", nn.Linear(3 * 8 * 8, 16)),
        ("relu1", nn.ReLU()),
        ("fc2", nn.Linear(16, 10)),
    ])))
    optimizer = torch.optim.Adam(seq.parameters(), lr=1e-3, betas=(0.9, 0.99))
    out["seq_losses"] = train_part34(seq, optimizer, loader)
    out["seq_names"] = [n for n, _ in seq.named_children()]

    X = torch.tensor(x_np[:5])
    y = torch.tensor(y_np[:5])
    out["saliency"] = compute_saliency_maps(X, y, model)
    fooled, preds = make_fooling_image(torch.tensor(x_np[:1]), 3, model)
    out["fooling"] = [fooled, preds]
    out["jitter"] = jitter(torch.arange(2 * 3 * 4 * 4.0).reshape(2, 3, 4, 4), 1, 2)
    out["class_vis"] = create_class_visualization(
        5, model, torch.tensor(rng.randn(1, 3, 8, 8).astype(np.float32)), rng)
    return out
