"""Text classification: variable-length token lists, collate_fn with padding, Embedding with
padding_idx, pack_padded_sequence into a bidirectional LSTM, BCEWithLogitsLoss."""

import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence
from torch.utils.data import DataLoader, Dataset

PAD_IDX = 0


class ReviewDataset(Dataset):
    def __init__(self, n, vocab_size, seed):
        rng = np.random.RandomState(seed)
        self.samples = []
        for _ in range(n):
            length = rng.randint(2, 9)
            tokens = rng.randint(1, vocab_size, size=length).tolist()
            label = float(sum(t % 2 for t in tokens) > length / 2)
            self.samples.append((tokens, label))

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, i):
        tokens, label = self.samples[i]
        return {"ids": torch.tensor(tokens, dtype=torch.long), "label": label}


def collate_batch(batch):
    ids = [item["ids"] for item in batch]
    lengths = torch.tensor([len(x) for x in ids])
    padded = pad_sequence(ids, batch_first=True, padding_value=PAD_IDX)
    labels = torch.tensor([item["label"] for item in batch], dtype=torch.float32)
    return padded, lengths, labels


class LSTMClassifier(nn.Module):
    def __init__(self, vocab_size, embedding_dim, hidden_dim, n_layers=2, dropout=0.0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=PAD_IDX)
        self.lstm = nn.LSTM(
            embedding_dim,
            hidden_dim,
            num_layers=n_layers,
            bidirectional=True,
            dropout=dropout,
            batch_first=True,
        )
        self.fc = nn.Linear(hidden_dim * 2, 1)
        self.dropout = nn.Dropout(dropout)

    def forward(self, text, text_lengths):
        embedded = self.dropout(self.embedding(text))  # (B, T, E)
        packed = pack_padded_sequence(
            embedded, text_lengths.cpu(), batch_first=True, enforce_sorted=False
        )
        packed_output, (hidden, cell) = self.lstm(packed)
        output, output_lengths = pad_packed_sequence(packed_output, batch_first=True)
        hidden = self.dropout(torch.cat((hidden[-2, :, :], hidden[-1, :, :]), dim=1))
        return self.fc(hidden).squeeze(1), output, output_lengths


def binary_accuracy(preds, y):
    rounded_preds = torch.round(torch.sigmoid(preds))
    correct = (rounded_preds == y).float()
    return correct.sum() / len(correct)


def main(sync, workdir):
    vocab = 20
    train = DataLoader(ReviewDataset(24, vocab, 0), batch_size=6, collate_fn=collate_batch)
    valid = DataLoader(ReviewDataset(10, vocab, 1), batch_size=5, collate_fn=collate_batch)
    model = sync(LSTMClassifier(vocab, 6, 5))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    criterion = nn.BCEWithLogitsLoss()
    out = {"first_batch": list(next(iter(train)))}
    history = []
    for epoch in range(2):
        model.train()
        epoch_loss = epoch_acc = 0.0
        for text, lengths, labels in train:
            optimizer.zero_grad()
            predictions, _, _ = model(text, lengths)
            loss = criterion(predictions, labels)
            acc = binary_accuracy(predictions, labels)
            loss.backward()
            optimizer.step()
            epoch_loss += loss.item()
            epoch_acc += acc.item()
        model.eval()
        with torch.no_grad():
            val = [criterion(model(t, n)[0], y).item() for t, n, y in valid]
        history.append([epoch_loss / len(train), epoch_acc / len(train), sum(val) / len(val)])
    out["history"] = history
    out["pad_row_grad"] = model.embedding.weight.grad[PAD_IDX]
    out["emb_grad"] = model.embedding.weight.grad
    with torch.no_grad():
        text, lengths, labels = next(iter(valid))
        pred, output, output_lengths = model(text, lengths)
    out["pred"] = pred
    out["output"] = output
    out["output_lengths"] = output_lengths
    # the PackedSequence itself
    seqs = [torch.tensor([1.0, 2.0, 3.0]), torch.tensor([4.0]), torch.tensor([5.0, 6.0])]
    packed = nn.utils.rnn.pack_sequence(seqs, enforce_sorted=False)
    out["packed"] = [
        packed.data,
        packed.batch_sizes,
        packed.sorted_indices,
        packed.unsorted_indices,
    ]
    padded, lens = pad_packed_sequence(
        packed, batch_first=False, padding_value=-1.0, total_length=4
    )
    out["padded"] = [padded, lens]
    out["unpadded"] = nn.utils.rnn.unpad_sequence(
        padded.clone(), lens
    )  # torch transposes it in place
    gru = sync(nn.GRU(1, 3, batch_first=False))
    o, h = gru(nn.utils.rnn.pack_sequence([s.unsqueeze(1) for s in seqs], enforce_sorted=False))
    out["gru_packed"] = [o.data, h]
    return out
