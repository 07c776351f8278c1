"""pytorch/examples word_language_model (RNN variant): RNNModel with LSTM/GRU/RNN_TANH, tied
weights, init_hidden from next(self.parameters()).new_zeros, repackage_hidden between bptt
chunks, manual SGD with clip_grad_norm_, learning-rate annealing on validation loss."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

TOLERANCE = {"rtol": 3e-4, "atol": 3e-5}


class RNNModel(nn.Module):
    def __init__(self, rnn_type, ntoken, ninp, nhid, nlayers, dropout=0.0, tie_weights=False):
        super().__init__()
        self.ntoken = ntoken
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        if rnn_type in ["LSTM", "GRU"]:
            self.rnn = getattr(nn, rnn_type)(ninp, nhid, nlayers, dropout=dropout)
        else:
            nonlinearity = {"RNN_TANH": "tanh", "RNN_RELU": "relu"}[rnn_type]
            self.rnn = nn.RNN(ninp, nhid, nlayers, nonlinearity=nonlinearity, dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)
        if tie_weights:
            if nhid != ninp:
                raise ValueError("When using the tied flag, nhid must be equal to emsize")
            self.decoder.weight = self.encoder.weight
        self.init_weights()
        self.rnn_type = rnn_type
        self.nhid = nhid
        self.nlayers = nlayers

    def init_weights(self):
        initrange = 0.1
        nn.init.uniform_(self.encoder.weight, -initrange, initrange)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -initrange, initrange)

    def forward(self, input, hidden):
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        output = self.drop(output)
        decoded = self.decoder(output)
        decoded = decoded.view(-1, self.ntoken)
        return F.log_softmax(decoded, dim=1), hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        if self.rnn_type == "LSTM":
            return (
                weight.new_zeros(self.nlayers, bsz, self.nhid),
                weight.new_zeros(self.nlayers, bsz, self.nhid),
            )
        return weight.new_zeros(self.nlayers, bsz, self.nhid)


def repackage_hidden(h):
    if isinstance(h, torch.Tensor):
        return h.detach()
    return tuple(repackage_hidden(v) for v in h)


def batchify(data, bsz):
    nbatch = data.size(0) // bsz
    data = data.narrow(0, 0, nbatch * bsz)
    return data.view(bsz, -1).t().contiguous()


def get_batch(source, i, bptt=4):
    seq_len = min(bptt, len(source) - 1 - i)
    data = source[i : i + seq_len]
    target = source[i + 1 : i + 1 + seq_len].view(-1)
    return data, target


def main(sync, workdir):
    rng = np.random.RandomState(0)
    ntokens = 9
    train_data = batchify(torch.from_numpy(rng.randint(0, ntokens, size=60)), 3)
    val_data = batchify(torch.from_numpy(rng.randint(0, ntokens, size=30)), 2)
    criterion = nn.NLLLoss()
    out = {}
    for rnn_type in ["LSTM", "GRU", "RNN_TANH", "RNN_RELU"]:
        model = sync(RNNModel(rnn_type, ntokens, 6, 6, 2, tie_weights=rnn_type == "LSTM"))
        lr, best_val_loss = 5.0, None
        history = []
        for epoch in range(2):
            model.train()
            total_loss = 0.0
            hidden = model.init_hidden(3)
            for batch, i in enumerate(range(0, train_data.size(0) - 1, 4)):
                data, targets = get_batch(train_data, i)
                model.zero_grad()
                hidden = repackage_hidden(hidden)
                output, hidden = model(data, hidden)
                loss = criterion(output, targets)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
                for p in model.parameters():
                    p.data.add_(p.grad, alpha=-lr)
                total_loss += loss.item()
            model.eval()
            val_loss = 0.0
            hidden = model.init_hidden(2)
            with torch.no_grad():
                for i in range(0, val_data.size(0) - 1, 4):
                    data, targets = get_batch(val_data, i)
                    output, hidden = model(data, hidden)
                    hidden = repackage_hidden(hidden)
                    val_loss += len(data) * criterion(output, targets).item()
            val_loss /= len(val_data) - 1
            if not best_val_loss or val_loss < best_val_loss:
                best_val_loss = val_loss
            else:
                lr /= 4.0
            history.append([total_loss, val_loss, math.exp(val_loss), lr])
        out[rnn_type] = {
            "history": history,
            "decoder": model.decoder.weight,
            "tied": model.decoder.weight is model.encoder.weight,
        }
    lstm = sync(nn.LSTM(3, 4, num_layers=2, proj_size=2, batch_first=True))
    h0 = (torch.zeros(2, 5, 2), torch.zeros(2, 5, 4))
    y, (hn, cn) = lstm(torch.from_numpy(rng.randn(5, 6, 3).astype(np.float32)), h0)
    out["proj"] = [y, hn, cn]
    gru = sync(nn.GRU(3, 4, num_layers=2, bidirectional=True))
    y, h = gru(torch.from_numpy(rng.randn(6, 3).astype(np.float32)))  # unbatched input
    out["unbatched_gru"] = [y, h]
    cell = sync(nn.GRUCell(3, 4))
    out["grucell"] = cell(torch.from_numpy(rng.randn(2, 3).astype(np.float32)))
    rnncell = sync(nn.RNNCell(3, 4, nonlinearity="relu"))
    out["rnncell"] = rnncell(torch.from_numpy(rng.randn(3).astype(np.float32)))
    return out
