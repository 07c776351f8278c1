"""Dive into Deep Learning, chapter 9: a character-level language model with an RNN written
from scratch: a Vocab built from collections.Counter, sequential and random minibatches of a
corpus (offsets from a numpy generator), F.one_hot(X.T, vocab_size), torch.tanh(torch.mm(X, W_xh)
+ torch.mm(H, W_hh) + b_h) over a time loop, torch.cat(outputs, dim=0), parameters made with
torch.randn(...) * 0.01 and requires_grad_(True), gradient clipping by hand (norm = torch.sqrt(
sum(torch.sum((p.grad ** 2)) for p in params)); param.grad[:] *= theta / norm), state.detach_(),
perplexity math.exp(l / n) and greedy prediction; then the concise nn.RNN version."""

import collections
import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

TEXT = (
    "the time traveller for so it will be convenient to speak of him was expounding a "
    "recondite matter to us his grey eyes shone and twinkled and his usually pale face was "
    "flushed and animated the fire burned brightly and the soft radiance of the incandescent "
    "lights in the lilies of silver caught the bubbles that flashed and passed in our glasses"
)


class Vocab:
    def __init__(self, tokens, min_freq=0, reserved_tokens=None):
        reserved_tokens = reserved_tokens or []
        counter = collections.Counter(tokens)
        self.token_freqs = sorted(counter.items(), key=lambda x: x[1], reverse=True)
        self.idx_to_token = list(sorted(set(["<unk>"] + reserved_tokens + [
            token for token, freq in self.token_freqs if freq >= min_freq])))
        self.token_to_idx = {token: idx for idx, token in enumerate(self.idx_to_token)}

    def __len__(self):
        return len(self.idx_to_token)

    def __getitem__(self, tokens):
        if not isinstance(tokens, (list, tuple)):
            return self.token_to_idx.get(tokens, self.unk)
        return [self.__getitem__(token) for token in tokens]

    def to_tokens(self, indices):
        if hasattr(indices, "__len__") and len(indices) > 1:
            return [self.idx_to_token[int(index)] for index in indices]
        return self.idx_to_token[indices]

    @property
    def unk(self):
        return self.token_to_idx["<unk>"]


def seq_data_iter_sequential(corpus, batch_size, num_steps, offset):
    num_tokens = ((len(corpus) - offset - 1) // batch_size) * batch_size
    Xs = torch.tensor(corpus[offset : offset + num_tokens])
    Ys = torch.tensor(corpus[offset + 1 : offset + 1 + num_tokens])
    Xs, Ys = Xs.reshape(batch_size, -1), Ys.reshape(batch_size, -1)
    num_batches = Xs.shape[1] // num_steps
    for i in range(0, num_steps * num_batches, num_steps):
        X = Xs[:, i : i + num_steps]
        Y = Ys[:, i : i + num_steps]
        yield X, Y


def seq_data_iter_random(corpus, batch_size, num_steps, rng):
    corpus = corpus[rng.randint(0, num_steps - 1) :]
    num_subseqs = (len(corpus) - 1) // num_steps
    initial_indices = list(range(0, num_subseqs * num_steps, num_steps))
    rng.shuffle(initial_indices)

    def data(pos):
        return corpus[pos : pos + num_steps]

    num_batches = num_subseqs // batch_size
    for i in range(0, batch_size * num_batches, batch_size):
        initial_indices_per_batch = initial_indices[i : i + batch_size]
        X = [data(j) for j in initial_indices_per_batch]
        Y = [data(j + 1) for j in initial_indices_per_batch]
        yield torch.tensor(X), torch.tensor(Y)


def get_params(vocab_size, num_hiddens):
    num_inputs = num_outputs = vocab_size

    def normal(shape):
        return torch.randn(size=shape) * 0.01

    W_xh = normal((num_inputs, num_hiddens))
    W_hh = normal((num_hiddens, num_hiddens))
    b_h = torch.zeros(num_hiddens)
    W_hq = normal((num_hiddens, num_outputs))
    b_q = torch.zeros(num_outputs)
    params = [W_xh, W_hh, b_h, W_hq, b_q]
    for param in params:
        param.requires_grad_(True)
    return params


def init_rnn_state(batch_size, num_hiddens):
    return (torch.zeros((batch_size, num_hiddens)),)


def rnn(inputs, state, params):
    W_xh, W_hh, b_h, W_hq, b_q = params
    H, = state
    outputs = []
    for X in inputs:
        H = torch.tanh(torch.mm(X, W_xh) + torch.mm(H, W_hh) + b_h)
        Y = torch.mm(H, W_hq) + b_q
        outputs.append(Y)
    return torch.cat(outputs, dim=0), (H,)


class RNNModelScratch:
    def __init__(self, vocab_size, num_hiddens, get_params, init_state, forward_fn, sync):
        self.vocab_size, self.num_hiddens = vocab_size, num_hiddens
        self.params = get_params(vocab_size, num_hiddens)
        # the book's torch.randn weights, made the same on both frameworks
        holder = sync(nn.ParameterList([nn.Parameter(p.detach()) for p in self.params]))
        with torch.no_grad():
            for p, q in zip(self.params, holder):
                p.copy_(q)
        self.init_state, self.forward_fn = init_state, forward_fn

    def __call__(self, X, state):
        X = F.one_hot(X.T, self.vocab_size).type(torch.float32)
        return self.forward_fn(X, state, self.params)

    def begin_state(self, batch_size):
        return self.init_state(batch_size, self.num_hiddens)


def predict_ch8(prefix, num_preds, net, vocab):
    state = net.begin_state(batch_size=1)
    outputs = [vocab[prefix[0]]]

    def get_input():
        return torch.tensor([outputs[-1]]).reshape((1, 1))

    for y in prefix[1:]:
        _, state = net(get_input(), state)
        outputs.append(vocab[y])
    for _ in range(num_preds):
        y, state = net(get_input(), state)
        outputs.append(int(y.argmax(dim=1).reshape(1)))
    return "".join([vocab.idx_to_token[i] for i in outputs])


def grad_clipping(net, theta):
    if isinstance(net, nn.Module):
        params = [p for p in net.parameters() if p.requires_grad]
    else:
        params = net.params
    norm = torch.sqrt(sum(torch.sum((p.grad ** 2)) for p in params))
    if norm > theta:
        for param in params:
            param.grad[:] *= theta / norm
    return float(norm)


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


def train_epoch_ch8(net, train_iter, loss, updater, use_random_iter):
    state = None
    total, n, norms = 0.0, 0, []
    for X, Y in train_iter:
        if state is None or use_random_iter:
            state = net.begin_state(batch_size=X.shape[0])
        else:
            if isinstance(net, nn.Module) and not isinstance(state, tuple):
                state.detach_()
            else:
                for s in state:
                    s.detach_()
        y = Y.T.reshape(-1)
        y_hat, state = net(X, state)
        l = loss(y_hat, y.long()).mean()
        if isinstance(updater, torch.optim.Optimizer):
            updater.zero_grad()
            l.backward()
            norms.append(grad_clipping(net, 1))
            updater.step()
        else:
            l.backward()
            norms.append(grad_clipping(net, 1))
            updater(batch_size=1)
        total += l.item() * y.numel()
        n += y.numel()
    return math.exp(total / n), norms


class RNNModel(nn.Module):
    def __init__(self, rnn_layer, vocab_size, **kwargs):
        super(RNNModel, self).__init__(**kwargs)
        self.rnn = rnn_layer
        self.vocab_size = vocab_size
        self.num_hiddens = self.rnn.hidden_size
        if not self.rnn.bidirectional:
            self.num_directions = 1
            self.linear = nn.Linear(self.num_hiddens, self.vocab_size)
        else:
            self.num_directions = 2
            self.linear = nn.Linear(self.num_hiddens * 2, self.vocab_size)

    def forward(self, inputs, state):
        X = F.one_hot(inputs.T.long(), self.vocab_size)
        X = X.to(torch.float32)
        Y, state = self.rnn(X, state)
        output = self.linear(Y.reshape((-1, Y.shape[-1])))
        return output, state

    def begin_state(self, batch_size=1):
        if not isinstance(self.rnn, nn.LSTM):
            return torch.zeros((self.num_directions * self.rnn.num_layers, batch_size,
                                self.num_hiddens))
        return (torch.zeros((self.num_directions * self.rnn.num_layers, batch_size,
                             self.num_hiddens)),
                torch.zeros((self.num_directions * self.rnn.num_layers, batch_size,
                             self.num_hiddens)))


def main(sync, workdir):
    rng = np.random.RandomState(0)
    tokens = list(TEXT)
    vocab = Vocab(tokens)
    corpus = [vocab[token] for token in tokens]
    batches = list(seq_data_iter_random(list(range(35)), 2, 5, np.random.RandomState(1)))
    seq_batches = list(seq_data_iter_sequential(list(range(35)), 2, 5, offset=2))
    out = {
        "vocab_len": len(vocab),
        "top": vocab.token_freqs[:3],
        "to_tokens": vocab.to_tokens([1, 2, 3]),
        "random_batches": [[x, y] for x, y in batches[:2]],
        "seq_batches": [[x, y] for x, y in seq_batches],
        "one_hot": F.one_hot(torch.tensor([0, 2]), len(vocab)),
        "one_hot_T_shape": list(F.one_hot(torch.arange(10).reshape((2, 5)).T, 28).shape),
    }
    num_hiddens, batch_size, num_steps = 16, 4, 8
    net = RNNModelScratch(len(vocab), num_hiddens, get_params, init_rnn_state, rnn, sync)
    state = net.begin_state(batch_size)
    Y, new_state = net(torch.tensor(corpus[: 2 * num_steps]).reshape(2, num_steps),
                       net.begin_state(2))
    out["scratch_shapes"] = [list(Y.shape), len(new_state), list(new_state[0].shape)]
    out["predict_before"] = predict_ch8("time traveller ", 10, net, vocab)
    loss = nn.CrossEntropyLoss()
    ppls, norms = [], []
    for epoch in range(3):
        train_iter = seq_data_iter_sequential(corpus, batch_size, num_steps, offset=epoch)
        ppl, n = train_epoch_ch8(net, train_iter, loss, lambda batch_size: sgd(net.params, 1.0,
                                                                            batch_size), False)
        ppls.append(ppl)
        norms.extend(n)
    ppl, n = train_epoch_ch8(net, seq_data_iter_random(corpus, batch_size, num_steps, rng),
                             loss, lambda batch_size: sgd(net.params, 1.0, batch_size), True)
    ppls.append(ppl)
    out["scratch_ppl"] = ppls
    out["scratch_norms"] = norms
    out["scratch_predict"] = predict_ch8("the ", 8, net, vocab)
    out["scratch_W_hq"] = net.params[3]
    del state

    rnn_layer = nn.RNN(len(vocab), num_hiddens)
    state = torch.zeros((1, batch_size, num_hiddens))
    X = torch.tensor(rng.rand(num_steps, batch_size, len(vocab)).astype(np.float32))
    Y, state_new = rnn_layer(X, state)
    out["layer_shapes"] = [list(Y.shape), list(state_new.shape)]
    model = sync(RNNModel(rnn_layer, vocab_size=len(vocab)))
    trainer = torch.optim.SGD(model.parameters(), 1.0)
    ppls = []
    for epoch in range(3):
        train_iter = seq_data_iter_sequential(corpus, batch_size, num_steps, offset=epoch)
        ppl, _ = train_epoch_ch8(model, train_iter, loss, trainer, False)
        ppls.append(ppl)
    out["concise_ppl"] = ppls
    out["concise_predict"] = predict_ch8("the ", 8, model, vocab)
    return out
