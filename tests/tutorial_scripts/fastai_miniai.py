"""fast.ai course part 2 ("miniai") in plain PyTorch: a Learner built from callbacks (run_cbs
ordered by cb.order, the with_cbs decorator, CancelFitException/CancelBatchException), TrainCB,
a MomentumLearner scaling grads with p.grad *= mom, a hand-written metrics callback, hooks on
every layer collecting activation means/stds and histograms (acts.abs().histc(40, 0, 10)) with
get_min from the first bins, GeneralRelu (F.leaky_relu, subtraction, clamp_max_), LSUV init
adjusting weights and biases until the statistics are standard, batch norm written with lerp_,
a layer norm from scratch, and a BatchSchedCB stepping OneCycleLR every batch."""

from functools import partial
from operator import attrgetter

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn, optim


class CancelFitException(Exception):
    pass


class CancelBatchException(Exception):
    pass


class CancelEpochException(Exception):
    pass


class Callback:
    order = 0


def run_cbs(cbs, method_nm, learn=None):
    for cb in sorted(cbs, key=attrgetter("order")):
        method = getattr(cb, method_nm, None)
        if method is not None:
            method(learn)


class with_cbs:
    def __init__(self, nm):
        self.nm = nm

    def __call__(self, f):
        def _f(o, *args, **kwargs):
            try:
                o.callback(f"before_{self.nm}")
                f(o, *args, **kwargs)
                o.callback(f"after_{self.nm}")
            except globals()[f"Cancel{self.nm.title()}Exception"]:
                pass
            finally:
                o.callback(f"cleanup_{self.nm}")
        return _f


class Learner:
    def __init__(self, model, dls, loss_func=F.mse_loss, lr=0.1, cbs=None, opt_func=optim.SGD):
        self.model, self.dls, self.loss_func, self.lr = model, dls, loss_func, lr
        self.cbs = list(cbs or [])
        self.opt_func = opt_func

    @with_cbs("batch")
    def _one_batch(self):
        self.predict()
        self.callback("after_predict")
        self.get_loss()
        self.callback("after_loss")
        if self.training:
            self.backward()
            self.callback("after_backward")
            self.step()
            self.callback("after_step")
            self.zero_grad()

    @with_cbs("epoch")
    def _one_epoch(self):
        for self.iter, self.batch in enumerate(self.dl):
            self._one_batch()

    def one_epoch(self, training):
        self.model.train(training)
        self.dl = self.dls["train"] if training else self.dls["valid"]
        self._one_epoch()

    @with_cbs("fit")
    def _fit(self, train, valid):
        for self.epoch in self.epochs:
            if train:
                self.one_epoch(True)
            if valid:
                with torch.no_grad():
                    self.one_epoch(False)

    def fit(self, n_epochs=1, train=True, valid=True):
        self.n_epochs = n_epochs
        self.epochs = range(n_epochs)
        self.opt = self.opt_func(self.model.parameters(), self.lr)
        self._fit(train, valid)

    def __getattr__(self, name):
        if name in ("predict", "get_loss", "backward", "step", "zero_grad"):
            return partial(self.callback, name)
        raise AttributeError(name)

    def callback(self, method_nm):
        run_cbs(self.cbs, method_nm, self)

    @property
    def training(self):
        return self.model.training


class TrainCB(Callback):
    def predict(self, learn):
        learn.preds = learn.model(learn.batch[0])

    def get_loss(self, learn):
        learn.loss = learn.loss_func(learn.preds, learn.batch[1])

    def backward(self, learn):
        learn.loss.backward()

    def step(self, learn):
        learn.opt.step()

    def zero_grad(self, learn):
        learn.opt.zero_grad()


class MomentumLearner(Learner):
    def __init__(self, model, dls, loss_func, lr, cbs, mom=0.85):
        self.mom = mom
        super().__init__(model, dls, loss_func, lr, [TrainCB()] + list(cbs))

    def zero_grad(self):
        with torch.no_grad():
            for p in self.model.parameters():
                p.grad *= self.mom


class MetricsCB(Callback):
    def __init__(self):
        self.log = []

    def before_epoch(self, learn):
        self.correct, self.n, self.losses = 0, 0, []

    def after_batch(self, learn):
        x, y = learn.batch
        self.correct += (learn.preds.argmax(dim=1) == y).float().sum().item()
        self.n += len(y)
        self.losses.append(learn.loss.detach() * len(y))

    def after_epoch(self, learn):
        loss = torch.stack(self.losses).sum() / self.n
        self.log.append({"epoch": learn.epoch, "train": learn.model.training,
                         "accuracy": self.correct / self.n, "loss": f"{loss.item():.4f}"})


class SingleBatchCB(Callback):
    order = 1

    def after_batch(self, learn):
        raise CancelFitException()


class BatchSchedCB(Callback):
    def __init__(self, sched):
        self.sched = sched
        self.lrs = []

    def before_fit(self, learn):
        self.schedo = self.sched(learn.opt)

    def after_batch(self, learn):
        if learn.training:
            self.lrs.append(learn.opt.param_groups[0]["lr"])
            self.schedo.step()


class Hook:
    def __init__(self, m, f):
        self.hook = m.register_forward_hook(partial(f, self))

    def remove(self):
        self.hook.remove()

    def __del__(self):
        self.remove()


def append_stats(hook, mod, inp, outp):
    if not hasattr(hook, "stats"):
        hook.stats = ([], [], [])
    acts = outp.detach().cpu()
    hook.stats[0].append(acts.mean().item())
    hook.stats[1].append(acts.std().item())
    hook.stats[2].append(acts.abs().histc(40, 0, 10))


def get_hist(h):
    return torch.stack(h.stats[2]).t().float().log1p()


def get_min(h):
    h1 = torch.stack(h.stats[2]).t().float()
    return h1[0] / h1.sum(0)


class GeneralRelu(nn.Module):
    def __init__(self, leak=None, sub=None, maxv=None):
        super().__init__()
        self.leak, self.sub, self.maxv = leak, sub, maxv

    def forward(self, x):
        x = F.leaky_relu(x, self.leak) if self.leak is not None else F.relu(x)
        if self.sub is not None:
            x -= self.sub
        if self.maxv is not None:
            x.clamp_max_(self.maxv)
        return x


class BatchNorm(nn.Module):
    def __init__(self, nf, mom=0.1, eps=1e-5):
        super().__init__()
        self.mom, self.eps = mom, eps
        self.mults = nn.Parameter(torch.ones(nf, 1, 1))
        self.adds = nn.Parameter(torch.zeros(nf, 1, 1))
        self.register_buffer("vars", torch.ones(1, nf, 1, 1))
        self.register_buffer("means", torch.zeros(1, nf, 1, 1))

    def update_stats(self, x):
        m = x.mean((0, 2, 3), keepdim=True)
        v = x.var((0, 2, 3), keepdim=True)
        self.means.lerp_(m, self.mom)
        self.vars.lerp_(v, self.mom)
        return m, v

    def forward(self, x):
        if self.training:
            with torch.no_grad():
                m, v = self.update_stats(x)
        else:
            m, v = self.means, self.vars
        x = (x - m) / (v + self.eps).sqrt()
        return x * self.mults + self.adds


class LayerNorm(nn.Module):
    def __init__(self, dummy, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.mult = nn.Parameter(torch.tensor(1.0))
        self.add = nn.Parameter(torch.tensor(0.0))

    def forward(self, x):
        m = x.mean((1, 2, 3), keepdim=True)
        v = x.var((1, 2, 3), keepdim=True)
        x = (x - m) / ((v + self.eps).sqrt())
        return x * self.mult + self.add


def conv(ni, nf, ks=3, stride=2, act=nn.ReLU, norm=None, bias=None):
    if bias is None:
        bias = not isinstance(norm, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d))
    layers = [nn.Conv2d(ni, nf, stride=stride, kernel_size=ks, padding=ks // 2, bias=bias)]
    if norm:
        layers.append(norm(nf))
    if act:
        layers.append(act())
    return nn.Sequential(*layers)


def get_model(act=nn.ReLU, nfs=(4, 8, 16), norm=None):
    layers = [conv(1, 4, ks=5, stride=1, act=act, norm=norm)]
    layers += [conv(nfs[i], nfs[i + 1], act=act, norm=norm) for i in range(len(nfs) - 1)]
    return nn.Sequential(*layers, conv(nfs[-1], 4, act=None, norm=False, bias=True),
                         nn.Flatten())


def init_weights(m, leaky=0.0):
    if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)):
        nn.init.kaiming_normal_(m.weight, a=leaky)


def lsuv_init(model, m, m_in, xb):
    h = Hook(m, lambda hook, mod, inp, outp: setattr(hook, "out", outp))
    means, stds = [], []
    for _ in range(6):
        model(xb)
        mean, std = h.out.mean().item(), h.out.std().item()
        means.append(mean)
        stds.append(std)
        if abs(mean) < 1e-3 and abs(std - 1) < 1e-3:
            break
        m_in.bias -= mean
        m_in.weight.data /= std
    h.remove()
    return [means, stds]


def make_dls(rng, n=32, bs=8):
    x = rng.rand(n, 1, 8, 8).astype(np.float32)
    y = (x[:, 0, :4, :4].mean((1, 2)) * 8).astype(np.int64) % 4
    x, y = torch.tensor(x), torch.tensor(y)
    train = [(x[i : i + bs], y[i : i + bs]) for i in range(0, n - 8, bs)]
    valid = [(x[n - 8 :], y[n - 8 :])]
    return {"train": train, "valid": valid}


def main(sync, workdir):
    rng = np.random.RandomState(0)
    dls = make_dls(rng)
    out = {}

    metrics = MetricsCB()
    model = sync(get_model())
    learn = MomentumLearner(model, dls, F.cross_entropy, lr=0.1, cbs=[metrics])
    learn.fit(2)
    out["momentum_log"] = metrics.log

    model = sync(get_model())
    metrics = MetricsCB()
    learn = Learner(model, dls, F.cross_entropy, lr=0.1, cbs=[TrainCB(), SingleBatchCB(),
                                                              metrics])
    learn.fit(3)
    out["single_batch"] = [metrics.log, learn.iter, learn.epoch]

    act_gr = partial(GeneralRelu, leak=0.1, sub=0.4, maxv=6.0)
    model = get_model(act=act_gr)
    model.apply(partial(init_weights, leaky=0.1))
    sync(model)
    hooks = [Hook(layer, append_stats) for layer in model[:3]]
    sched = partial(optim.lr_scheduler.OneCycleLR, max_lr=0.2, total_steps=6)
    schedcb = BatchSchedCB(sched)
    metrics = MetricsCB()
    learn = Learner(model, dls, F.cross_entropy, lr=0.2, cbs=[TrainCB(), metrics, schedcb],
                    opt_func=partial(optim.AdamW, eps=1e-5))
    learn.fit(2)
    out["hooked"] = {
        "log": metrics.log,
        "lrs": schedcb.lrs,
        "means": [h.stats[0] for h in hooks],
        "stds": [h.stats[1] for h in hooks],
        "hist": get_hist(hooks[1]),
        "min": get_min(hooks[2]),
    }
    for h in hooks:
        h.remove()

    model = sync(get_model(act=act_gr))
    xb = dls["train"][0][0]
    lsuv = []
    with torch.no_grad():
        for m, m_in in zip(
            [mod for mod in model.modules() if isinstance(mod, GeneralRelu)],
            [mod for mod in model.modules() if isinstance(mod, nn.Conv2d)],
        ):
            lsuv.append(lsuv_init(model, m, m_in, xb))
    out["lsuv"] = lsuv

    for name, norm in (("bn", BatchNorm), ("ln", LayerNorm), ("torch_bn", nn.BatchNorm2d)):
        model = sync(get_model(norm=norm))
        metrics = MetricsCB()
        learn = Learner(model, dls, F.cross_entropy, lr=0.05, cbs=[TrainCB(), metrics])
        learn.fit(2)
        out[name] = [metrics.log, sorted(model.state_dict().keys())[:4]]
    out["gr"] = GeneralRelu(leak=0.1, sub=0.4, maxv=1.0)(torch.linspace(-3, 3, 9))
    return out
