"""The d2l 1.0 object-oriented API re-created in plain PyTorch: add_to_class to attach methods
after the fact, HyperParameters.save_hyperparameters through inspect.currentframe(), a
Module(nn.Module) with training_step/validation_step/configure_optimizers, a DataModule whose
get_tensorloader slices tensors with tuple(a[indices] for a in tensors), a Trainer with
prepare_batch, clip_gradients and fit_epoch under torch.no_grad() for validation, Classifier
accuracy with averaged=True/False, apply_init([X], init) for lazy layers, and layer_summary."""

import inspect

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


def add_to_class(Class):
    def wrapper(obj):
        setattr(Class, obj.__name__, obj)
    return wrapper


class HyperParameters:
    def save_hyperparameters(self, ignore=[]):
        frame = inspect.currentframe().f_back
        _, _, _, local_vars = inspect.getargvalues(frame)
        self.hparams = {k: v for k, v in local_vars.items()
                        if k not in set(ignore + ["self"]) and not k.startswith("_")}
        for k, v in self.hparams.items():
            setattr(self, k, v)


class Module(nn.Module, HyperParameters):
    def __init__(self):
        super().__init__()
        self.history = []

    def loss(self, y_hat, y):
        raise NotImplementedError

    def forward(self, X):
        assert hasattr(self, "net"), "Neural network is defined"
        return self.net(X)

    def plot(self, key, value, train):
        self.history.append((key, "train" if train else "val", float(value.detach().numpy())))

    def training_step(self, batch):
        l = self.loss(self(*batch[:-1]), batch[-1])
        self.plot("loss", l, train=True)
        return l

    def validation_step(self, batch):
        l = self.loss(self(*batch[:-1]), batch[-1])
        self.plot("loss", l, train=False)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.lr)

    def apply_init(self, inputs, init=None):
        self.forward(*inputs)
        if init is not None:
            self.net.apply(init)


class DataModule(HyperParameters):
    def __init__(self, root="../data", num_workers=4):
        self.save_hyperparameters()

    def get_dataloader(self, train):
        raise NotImplementedError

    def train_dataloader(self):
        return self.get_dataloader(train=True)

    def val_dataloader(self):
        return self.get_dataloader(train=False)

    def get_tensorloader(self, tensors, train, indices=slice(0, None)):
        tensors = tuple(a[indices] for a in tensors)
        dataset = torch.utils.data.TensorDataset(*tensors)
        return torch.utils.data.DataLoader(dataset, self.batch_size, shuffle=False)


class Trainer(HyperParameters):
    def __init__(self, max_epochs, num_gpus=0, gradient_clip_val=0):
        self.save_hyperparameters()
        assert num_gpus == 0, "No GPU support yet"

    def prepare_data(self, data):
        self.train_dataloader = data.train_dataloader()
        self.val_dataloader = data.val_dataloader()
        self.num_train_batches = len(self.train_dataloader)
        self.num_val_batches = (len(self.val_dataloader)
                                if self.val_dataloader is not None else 0)

    def prepare_model(self, model):
        model.trainer = self
        self.model = model

    def fit(self, model, data):
        self.prepare_data(data)
        self.prepare_model(model)
        self.optim = model.configure_optimizers()
        self.epoch = 0
        self.train_batch_idx = 0
        self.val_batch_idx = 0
        for self.epoch in range(self.max_epochs):
            self.fit_epoch()

    def prepare_batch(self, batch):
        return batch


@add_to_class(Trainer)
def fit_epoch(self):
    self.model.train()
    for batch in self.train_dataloader:
        loss = self.model.training_step(self.prepare_batch(batch))
        self.optim.zero_grad()
        with torch.no_grad():
            loss.backward()
            if self.gradient_clip_val > 0:
                self.clip_gradients(self.gradient_clip_val, self.model)
            self.optim.step()
        self.train_batch_idx += 1
    if self.val_dataloader is None:
        return
    self.model.eval()
    for batch in self.val_dataloader:
        with torch.no_grad():
            self.model.validation_step(self.prepare_batch(batch))
        self.val_batch_idx += 1


@add_to_class(Trainer)
def clip_gradients(self, grad_clip_val, model):
    params = [p for p in model.parameters() if p.requires_grad]
    norm = torch.sqrt(sum(torch.sum((p.grad ** 2)) for p in params))
    if norm > grad_clip_val:
        for param in params:
            param.grad[:] *= grad_clip_val / norm


class SyntheticRegressionData(DataModule):
    def __init__(self, w, b, X, noise, num_train=40, num_val=20, batch_size=8):
        super().__init__()
        self.save_hyperparameters(ignore=["X", "noise"])
        self.X = X  # torch.randn(n, len(w)) in the book
        self.y = torch.matmul(self.X, w.reshape((-1, 1))) + b + noise

    def get_dataloader(self, train):
        i = slice(0, self.num_train) if train else slice(self.num_train, None)
        return self.get_tensorloader((self.X, self.y), train, i)


class LinearRegression(Module):
    def __init__(self, lr):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.LazyLinear(1)
        self.net.weight.data.normal_(0, 0.01)
        self.net.bias.data.fill_(0)

    def forward(self, X):
        return self.net(X)

    def loss(self, y_hat, y):
        fn = nn.MSELoss()
        return fn(y_hat, y)

    def get_w_b(self):
        return (self.net.weight.data, self.net.bias.data)


class Classifier(Module):
    def validation_step(self, batch):
        Y_hat = self(*batch[:-1])
        self.plot("loss", self.loss(Y_hat, batch[-1]), train=False)
        self.plot("acc", self.accuracy(Y_hat, batch[-1]), train=False)


@add_to_class(Classifier)
def accuracy(self, Y_hat, Y, averaged=True):
    Y_hat = Y_hat.reshape((-1, Y_hat.shape[-1]))
    preds = Y_hat.argmax(axis=1).type(Y.dtype)
    compare = (preds == Y.reshape(-1)).type(torch.float32)
    return compare.mean() if averaged else compare


@add_to_class(Module)
def configure_optimizers(self):
    return torch.optim.SGD(self.parameters(), self.lr)


@add_to_class(Classifier)
def loss(self, Y_hat, Y, averaged=True):
    Y_hat = Y_hat.reshape((-1, Y_hat.shape[-1]))
    Y = Y.reshape((-1,))
    return F.cross_entropy(Y_hat, Y, reduction="mean" if averaged else "none")


class MLP(Classifier):
    def __init__(self, num_outputs, num_hiddens, lr):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(nn.Flatten(), nn.LazyLinear(num_hiddens), nn.ReLU(),
                                 nn.LazyLinear(num_outputs))


class TinyImages(DataModule):
    def __init__(self, X, y, batch_size=16):
        super().__init__()
        self.save_hyperparameters()

    def get_dataloader(self, train):
        i = slice(0, 48) if train else slice(48, None)
        return self.get_tensorloader((self.X, self.y), train, i)


@add_to_class(Classifier)
def layer_summary(self, X):
    lines = []
    for layer in self.net:
        X = layer(X)
        lines.append(f"{layer.__class__.__name__} output shape:\t{X.shape}")
    return lines


def init_cnn(module):
    if type(module) == nn.Linear or type(module) == nn.Conv2d:
        nn.init.xavier_uniform_(module.weight)


def main(sync, workdir):
    rng = np.random.RandomState(0)
    out = {}
    w = torch.tensor([2, -3.4])
    data = SyntheticRegressionData(
        w, 4.2, torch.tensor(rng.randn(60, 2).astype(np.float32)),
        torch.tensor(rng.randn(60, 1).astype(np.float32)) * 0.01)
    out["hparams"] = sorted(data.hparams)
    X, y = next(iter(data.train_dataloader()))
    out["first_batch"] = [list(X.shape), list(y.shape), len(data.train_dataloader())]
    model = LinearRegression(lr=0.03)
    model(X)
    sync(model)
    trainer = Trainer(max_epochs=3, gradient_clip_val=1.0)
    trainer.fit(model, data)
    w_hat, b_hat = model.get_w_b()
    out["linreg"] = {"history": model.history, "w_err": w - w_hat.reshape(w.shape),
                     "b_err": 4.2 - b_hat, "batches": [trainer.train_batch_idx,
                                                      trainer.val_batch_idx]}

    images = torch.tensor(rng.rand(64, 1, 4, 4).astype(np.float32))
    labels = torch.tensor((rng.rand(64) * 3).astype(np.int64))
    data = TinyImages(images, labels)
    mlp = MLP(num_outputs=3, num_hiddens=8, lr=0.5)
    mlp.apply_init([images[:2]], init_cnn)
    sync(mlp)
    out["summary"] = mlp.layer_summary(images[:2])
    trainer = Trainer(max_epochs=3)
    trainer.fit(mlp, data)
    Y_hat = mlp(images[48:])
    out["mlp"] = {
        "history": mlp.history,
        "acc": mlp.accuracy(Y_hat, labels[48:]),
        "acc_none": mlp.accuracy(Y_hat, labels[48:], averaged=False),
        "loss_none": mlp.loss(Y_hat, labels[48:], averaged=False),
        "hparams": {k: v for k, v in mlp.hparams.items()},
    }
    return out
