"""Dive into Deep Learning, chapter 10: GRU and LSTM from scratch (three() returning
(normal((num_inputs, num_hiddens)), normal(...), torch.zeros(num_hiddens)) triples, gates with
torch.sigmoid((X @ W_xz) + (H @ W_hz) + b_z), H = Z * H + (1 - Z) * H_tilda, C = F * C + I *
C_tilda), checked step for step against nn.GRU/nn.LSTM given the same weights (torch.cat of
the gate blocks into weight_ih_l0), deep (num_layers=2) and bidirectional variants, the
hidden states returned as (h, c), and a few training steps with state.detach_() /
(s.detach_() for s in state) between minibatches."""

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


def get_gru_params(rng, num_inputs, num_hiddens):
    def normal(shape):
        return torch.tensor(rng.randn(*shape).astype(np.float32) * 0.1)

    def three():
        return (normal((num_inputs, num_hiddens)), normal((num_hiddens, num_hiddens)),
                torch.zeros(num_hiddens))

    W_xz, W_hz, b_z = three()  # update gate
    W_xr, W_hr, b_r = three()  # reset gate
    W_xh, W_hh, b_h = three()  # candidate hidden state
    params = [W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h]
    for param in params:
        param.requires_grad_(True)
    return params


def gru(inputs, state, params):
    W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h = params
    H, = state
    outputs = []
    for X in inputs:
        Z = torch.sigmoid((X @ W_xz) + (H @ W_hz) + b_z)
        R = torch.sigmoid((X @ W_xr) + (H @ W_hr) + b_r)
        H_tilda = torch.tanh((X @ W_xh) + ((R * H) @ W_hh) + b_h)
        H = Z * H + (1 - Z) * H_tilda
        outputs.append(H)
    return torch.stack(outputs), (H,)


def get_lstm_params(rng, num_inputs, num_hiddens):
    def normal(shape):
        return torch.tensor(rng.randn(*shape).astype(np.float32) * 0.1)

    def three():
        return (normal((num_inputs, num_hiddens)), normal((num_hiddens, num_hiddens)),
                torch.zeros(num_hiddens))

    W_xi, W_hi, b_i = three()  # input gate
    W_xf, W_hf, b_f = three()  # forget gate
    W_xo, W_ho, b_o = three()  # output gate
    W_xc, W_hc, b_c = three()  # memory cell
    params = [W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o, W_xc, W_hc, b_c]
    for param in params:
        param.requires_grad_(True)
    return params


def lstm(inputs, state, params):
    [W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o, W_xc, W_hc, b_c] = params
    (H, C) = state
    outputs = []
    for X in inputs:
        I = torch.sigmoid((X @ W_xi) + (H @ W_hi) + b_i)
        F_ = torch.sigmoid((X @ W_xf) + (H @ W_hf) + b_f)
        O = torch.sigmoid((X @ W_xo) + (H @ W_ho) + b_o)
        C_tilda = torch.tanh((X @ W_xc) + (H @ W_hc) + b_c)
        C = F_ * C + I * C_tilda
        H = O * torch.tanh(C)
        outputs.append(H)
    return torch.stack(outputs), (H, C)


def copy_gru_weights(layer, params):
    # nn.GRU packs (reset, update, new) gates row-wise, transposed
    W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h = [p.detach() for p in params]
    with torch.no_grad():
        layer.weight_ih_l0.copy_(torch.cat([W_xr.T, W_xz.T, W_xh.T], dim=0))
        layer.weight_hh_l0.copy_(torch.cat([W_hr.T, W_hz.T, W_hh.T], dim=0))
        layer.bias_ih_l0.zero_()
        layer.bias_hh_l0.zero_()


def copy_lstm_weights(layer, params):
    # nn.LSTM packs (input, forget, cell, output) gates
    W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o, W_xc, W_hc, b_c = [
        p.detach() for p in params]
    with torch.no_grad():
        layer.weight_ih_l0.copy_(torch.cat([W_xi.T, W_xf.T, W_xc.T, W_xo.T], 0))
        layer.weight_hh_l0.copy_(torch.cat([W_hi.T, W_hf.T, W_hc.T, W_ho.T], 0))
        layer.bias_ih_l0.fill_(0)
        layer.bias_hh_l0.fill_(0.0)


class Tagger(nn.Module):
    def __init__(self, rnn_layer, vocab_size):
        super().__init__()
        self.rnn = rnn_layer
        self.vocab_size = vocab_size
        d = 2 if rnn_layer.bidirectional else 1
        self.linear = nn.Linear(rnn_layer.hidden_size * d, vocab_size)

    def forward(self, inputs, state):
        X = F.one_hot(inputs.T.long(), self.vocab_size).to(torch.float32)
        Y, state = self.rnn(X, state)
        return self.linear(Y.reshape((-1, Y.shape[-1]))), state


def train_concise(model, corpus, rng, steps=4, batch_size=3, num_steps=6):
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    state = None
    losses = []
    for step in range(steps):
        starts = rng.randint(0, len(corpus) - num_steps - 1, batch_size)
        X = torch.tensor(np.stack([corpus[s : s + num_steps] for s in starts]))
        Y = torch.tensor(np.stack([corpus[s + 1 : s + num_steps + 1] for s in starts]))
        if state is None:
            state = None
        elif isinstance(state, tuple):
            for s in state:
                s.detach_()
        else:
            state.detach_()
        y_hat, state = model(X, state)
        l = F.cross_entropy(y_hat, Y.T.reshape(-1))
        opt.zero_grad()
        l.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(l.item())
    return losses, state


def main(sync, workdir):
    rng = np.random.RandomState(0)
    vocab_size, num_hiddens, T, B = 7, 5, 6, 3
    inputs = F.one_hot(torch.tensor(rng.randint(0, vocab_size, (B, T))).T, vocab_size).float()
    out = {}

    params = get_gru_params(rng, vocab_size, num_hiddens)
    H0 = torch.zeros((B, num_hiddens))
    Y, (H,) = gru(inputs, (H0,), params)
    Y.sum().backward()
    layer = nn.GRU(vocab_size, num_hiddens)
    copy_gru_weights(layer, params)
    Y_ref, H_ref = layer(inputs, H0.unsqueeze(0))
    Y_ref.sum().backward()
    out["gru"] = {
        "Y": Y, "H": H, "Y_ref": Y_ref, "H_ref": H_ref,
        "grad_W_xz": params[0].grad,
        "grad_ref_ih": layer.weight_ih_l0.grad,
        "same": (Y - Y_ref).abs().max().item() < 1e-5,
    }

    params = get_lstm_params(rng, vocab_size, num_hiddens)
    C0 = torch.zeros((B, num_hiddens))
    Y, (H, C) = lstm(inputs, (H0, C0), params)
    (Y.sum() + C.pow(2).sum()).backward()
    layer = nn.LSTM(vocab_size, num_hiddens)
    copy_lstm_weights(layer, params)
    Y_ref, (H_ref, C_ref) = layer(inputs, (H0.unsqueeze(0), C0.unsqueeze(0)))
    (Y_ref.sum() + C_ref.pow(2).sum()).backward()
    out["lstm"] = {
        "Y": Y, "C": C, "Y_ref": Y_ref, "C_ref": C_ref,
        "grad_W_xc": params[9].grad,
        "grad_ref_hh": layer.weight_hh_l0.grad,
    }

    corpus = rng.randint(0, vocab_size, 80)
    for name, layer in [
        ("gru", nn.GRU(vocab_size, num_hiddens)),
        ("lstm", nn.LSTM(vocab_size, num_hiddens)),
        ("deep_lstm", nn.LSTM(vocab_size, num_hiddens, num_layers=2)),
        ("deep_gru_dropout0", nn.GRU(vocab_size, num_hiddens, 2, dropout=0.0)),
        ("bi_lstm", nn.LSTM(vocab_size, num_hiddens, num_layers=2, bidirectional=True)),
        ("bi_rnn_relu", nn.RNN(vocab_size, num_hiddens, nonlinearity="relu",
                               bidirectional=True)),
    ]:
        model = sync(Tagger(layer, vocab_size))
        losses, state = train_concise(model, corpus, np.random.RandomState(1))
        shapes = ([list(s.shape) for s in state] if isinstance(state, tuple)
                  else list(state.shape))
        out[name] = {"losses": losses, "state_shapes": shapes,
                     "params": [n for n, _ in model.rnn.named_parameters()]}
    return out
