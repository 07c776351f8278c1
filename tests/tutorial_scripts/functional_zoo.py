"""nn.functional and layer variety as found in model code: activations, normalisations,
pooling, resizing, padding, unfold/fold, pixel shuffle, and the loss functions, each with
its gradient."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def main(sync, workdir):
    rng = np.random.RandomState(0)

    def leaf(*shape, scale=1.0):
        return torch.tensor(rng.randn(*shape).astype(np.float32) * scale, requires_grad=True)

    out = {}
    x = leaf(2, 3, 6, 6)
    acts = {
        "relu": F.relu(x),
        "relu6": F.relu6(x * 4),
        "leaky": F.leaky_relu(x, 0.1),
        "elu": F.elu(x),
        "selu": F.selu(x),
        "celu": F.celu(x, 0.5),
        "gelu": F.gelu(x),
        "gelu_tanh": F.gelu(x, approximate="tanh"),
        "silu": F.silu(x),
        "mish": F.mish(x),
        "hardswish": F.hardswish(x),
        "hardsigmoid": F.hardsigmoid(x),
        "hardtanh": F.hardtanh(x, -0.5, 0.5),
        "softplus": F.softplus(x, beta=2, threshold=3),
        "softsign": F.softsign(x),
        "tanhshrink": F.tanhshrink(x),
        "softshrink": F.softshrink(x, 0.3),
        "hardshrink": F.hardshrink(x, 0.3),
        "logsigmoid": F.logsigmoid(x),
        "sigmoid": torch.sigmoid(x),
        "tanh": torch.tanh(x),
        "softmax": F.softmax(x, dim=1),
        "log_softmax": F.log_softmax(x, dim=-1),
        "softmin": F.softmin(x, dim=2),
        "glu": F.glu(x, dim=-1),
        "threshold": F.threshold(x, 0.1, 20.0),
        "rrelu_eval": F.rrelu(x, training=False),
        "prelu": F.prelu(x, torch.tensor([0.1, 0.2, 0.3])),
    }
    total = sum((v * (i + 1)).sum() for i, v in enumerate(acts.values()))
    total.backward()
    out["acts"] = acts
    out["acts_grad"] = x.grad

    x = leaf(2, 4, 5, 5)
    w, b = leaf(4), leaf(4)
    rm, rv = torch.zeros(4), torch.ones(4)
    norms = {
        "batch_norm_train": F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.2),
        "batch_norm_eval": F.batch_norm(x, rm, rv, w, b, training=False),
        "instance": F.instance_norm(x, weight=w, bias=b),
        "group": F.group_norm(x, 2, w, b),
        "layer": F.layer_norm(x, (5, 5)),
        "layer_affine": F.layer_norm(x, (4, 5, 5), torch.ones(4, 5, 5) * 2, torch.zeros(4, 5, 5)),
        "rms": F.rms_norm(x, (5,), eps=1e-6),
        "lrn": F.local_response_norm(x, 3),
        "normalize": F.normalize(x, dim=1),
    }
    sum(v.sum() * (i + 1) for i, v in enumerate(norms.values())).backward()
    out["norms"] = norms
    out["running"] = [rm, rv]
    out["norm_grads"] = [x.grad, w.grad, b.grad]

    x = leaf(2, 3, 7, 7)
    pools = {
        "max": F.max_pool2d(x, 3, stride=2, padding=1),
        "max_ceil": F.max_pool2d(x, 2, ceil_mode=True),
        "max_dil": F.max_pool2d(x, 2, dilation=2),
        "avg": F.avg_pool2d(x, 3, stride=2, padding=1),
        "avg_nopad": F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False),
        "avg_ceil": F.avg_pool2d(x, 2, ceil_mode=True),
        "adaptive_avg": F.adaptive_avg_pool2d(x, (3, 2)),
        "adaptive_max": F.adaptive_max_pool2d(x, 3),
        "lp": F.lp_pool2d(x, 2, 2),
        "max1d": F.max_pool1d(x[:, :, 0], 2),
        "avg1d": F.avg_pool1d(x[:, :, 0], 3, 2),
        "adaptive1d": F.adaptive_avg_pool1d(x[:, :, 0], 4),
    }
    mx, idx = F.max_pool2d(x, 2, return_indices=True)
    pools["unpool"] = F.max_unpool2d(mx, idx, 2, output_size=x.shape[-2:])
    sum(v.sum() * (i + 1) for i, v in enumerate(pools.values())).backward()
    out["pools"] = pools
    out["pool_idx"] = idx
    out["pool_grad"] = x.grad

    x = leaf(1, 2, 4, 5)
    resize = {
        "nearest": F.interpolate(x, scale_factor=2, mode="nearest"),
        "nearest_size": F.interpolate(x, size=(7, 3)),
        "nearest_exact": F.interpolate(x, size=(7, 3), mode="nearest-exact"),
        "bilinear": F.interpolate(x, size=(8, 9), mode="bilinear", align_corners=False),
        "bilinear_ac": F.interpolate(x, scale_factor=1.5, mode="bilinear", align_corners=True),
        "bicubic": F.interpolate(x, size=(6, 7), mode="bicubic", align_corners=False),
        "area": F.interpolate(x, size=(2, 3), mode="area"),
        "linear": F.interpolate(x[0], scale_factor=2, mode="linear"),
        "upsample": nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)(x),
        "pad_const": F.pad(x, (1, 2, 0, 1), value=0.5),
        "pad_reflect": F.pad(x, (2, 2, 1, 1), mode="reflect"),
        "pad_replicate": F.pad(x, (1, 1, 2, 0), mode="replicate"),
        "pad_circular": F.pad(x, (1, 1, 1, 1), mode="circular"),
        "pixel_shuffle": F.pixel_shuffle(torch.cat([x, x], 1), 2),
        "pixel_unshuffle": F.pixel_unshuffle(x[..., :4], 2),
        "unfold": F.unfold(x, kernel_size=2, stride=1, padding=1),
        "fold": F.fold(
            F.unfold(x, 2, stride=2, padding=(0, 1)), (4, 5), 2, stride=2, padding=(0, 1)
        ),
        "channel_shuffle": F.channel_shuffle(torch.cat([x, x], 1), 2),
        "dropout_eval": F.dropout(x, 0.5, training=False),
        "alpha_dropout_eval": F.alpha_dropout(x, 0.5, training=False),
        "embedding": F.embedding(torch.tensor([[0, 2], [1, 1]]), x.view(-1, 5)[:4]),
        "embedding_max_norm": F.embedding(
            torch.tensor([1, 3]), x.view(-1, 5)[:4].detach().clone(), max_norm=1.0
        ),
        "one_hot": F.one_hot(torch.tensor([2, 0]), 4).float(),
        "cosine": F.cosine_similarity(x, x.flip(-1), dim=1),
        "linear_fn": F.linear(x, x[0, 0, :, :5]),
        "bilinear_fn": F.bilinear(x[0, 0], x[0, 1], torch.ones(3, 5, 5)),
    }
    sum(v.sum() * (i + 1) for i, v in enumerate(resize.values()) if v.requires_grad).backward()
    out["resize"] = resize
    out["resize_grad"] = x.grad

    logits = leaf(4, 5)
    target = torch.tensor([1, 0, 4, 2])
    probs = torch.softmax(torch.tensor(rng.randn(4, 5).astype(np.float32)), 1)
    y = leaf(4, 5)
    binary = torch.tensor(rng.randint(0, 2, size=(4, 5)).astype(np.float32))
    seg = leaf(2, 3, 4, 4)
    seg_t = torch.tensor(rng.randint(0, 3, size=(2, 4, 4)))
    seg_t[0, 0, 0] = -100
    losses = {
        "ce": F.cross_entropy(logits, target),
        "ce_w": F.cross_entropy(logits, target, weight=torch.arange(1.0, 6.0)),
        "ce_smooth": F.cross_entropy(logits, target, label_smoothing=0.2),
        "ce_probs": F.cross_entropy(logits, probs),
        "ce_ignore": F.cross_entropy(logits, torch.tensor([1, -100, 4, 2])),
        "ce_sum": F.cross_entropy(logits, target, reduction="sum"),
        "ce_2d": F.cross_entropy(seg, seg_t),
        "ce_2d_none": F.cross_entropy(seg, seg_t, reduction="none"),
        "nll": F.nll_loss(F.log_softmax(logits, 1), target),
        "nll_2d_w": F.nll_loss(F.log_softmax(seg, 1), seg_t, weight=torch.tensor([1.0, 2.0, 0.5])),
        "bce": F.binary_cross_entropy(torch.sigmoid(logits), binary),
        "bce_w": F.binary_cross_entropy(torch.sigmoid(logits), binary, weight=torch.arange(5.0)),
        "bce_logits": F.binary_cross_entropy_with_logits(
            logits, binary, pos_weight=torch.full((5,), 3.0)
        ),
        "mse": F.mse_loss(logits, y),
        "l1": F.l1_loss(logits, y),
        "smooth_l1": F.smooth_l1_loss(logits, y, beta=0.5),
        "huber": F.huber_loss(logits, y, delta=0.7),
        "kl": F.kl_div(F.log_softmax(logits, 1), probs, reduction="batchmean"),
        "kl_log": F.kl_div(F.log_softmax(logits, 1), probs.log(), reduction="sum", log_target=True),
        "poisson": F.poisson_nll_loss(logits, binary),
        "gauss": F.gaussian_nll_loss(logits, y, torch.ones(4, 5) * 0.5),
        "margin": F.multi_margin_loss(logits, target),
        "multilabel_margin": F.multilabel_margin_loss(logits, torch.tensor([[1, 3, -1, 0, 0]] * 4)),
        "multilabel_soft": F.multilabel_soft_margin_loss(logits, binary),
        "soft_margin": F.soft_margin_loss(logits, binary * 2 - 1),
        "hinge": F.hinge_embedding_loss(logits, binary * 2 - 1),
        "cosine_emb": F.cosine_embedding_loss(logits, y, torch.tensor([1, -1, 1, -1])),
    }
    lp = F.log_softmax(leaf(6, 2, 4), 2)
    losses["ctc"] = F.ctc_loss(
        lp, torch.tensor([[1, 2], [3, 3]]), torch.tensor([6, 5]), torch.tensor([2, 2])
    )
    losses["ctc_none"] = F.ctc_loss(
        lp,
        torch.tensor([1, 2, 3]),
        torch.tensor([6, 6]),
        torch.tensor([2, 1]),
        reduction="none",
        zero_infinity=True,
    )
    sum(v.sum() * (i + 1) for i, v in enumerate(losses.values())).backward()
    out["losses"] = losses
    out["loss_grads"] = [logits.grad, y.grad, seg.grad]
    modules = [
        nn.CrossEntropyLoss(ignore_index=0),
        nn.BCEWithLogitsLoss(reduction="none"),
        nn.NLLLoss(reduction="sum"),
        nn.MSELoss(reduction="sum"),
        nn.L1Loss(reduction="none"),
        nn.KLDivLoss(reduction="batchmean"),
        nn.SmoothL1Loss(beta=2.0),
    ]
    out["loss_modules"] = [
        modules[0](logits, target),
        modules[1](logits, binary),
        modules[2](F.log_softmax(logits, 1), target),
        modules[3](logits, y),
        modules[4](logits, y),
        modules[5](F.log_softmax(logits, 1), probs),
        modules[6](logits, y),
    ]
    return out
