"""Classifying names with a character-level RNN: one-hot letters, nn.RNN, LogSoftmax + NLLLoss."""

import string

import torch
import torch.nn as nn
import torch.nn.functional as F

all_letters = string.ascii_letters + " .,;'"
n_letters = len(all_letters)
names = {
    "English": ["Smith", "Brown", "Taylor", "Wilson"],
    "French": ["Dubois", "Moreau", "Lefevre", "Girard"],
    "Italian": ["Rossi", "Ricci", "Greco", "Bruno"],
}
all_categories = list(names)


def letterToIndex(letter):
    return all_letters.find(letter)


def lineToTensor(line):
    tensor = torch.zeros(len(line), 1, n_letters)
    for li, letter in enumerate(line):
        tensor[li][0][letterToIndex(letter)] = 1
    return tensor


class CharRNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.rnn = nn.RNN(input_size, hidden_size)
        self.h2o = nn.Linear(hidden_size, output_size)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, line_tensor):
        rnn_out, hidden = self.rnn(line_tensor)
        output = self.h2o(hidden[0])
        output = self.softmax(output)
        return output


class ClassicRNN(nn.Module):
    """The older version of the tutorial: a hand-written recurrent cell."""

    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.i2h = nn.Linear(input_size + hidden_size, hidden_size)
        self.i2o = nn.Linear(input_size + hidden_size, output_size)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, input, hidden):
        combined = torch.cat((input, hidden), 1)
        hidden = self.i2h(combined)
        output = self.softmax(self.i2o(combined))
        return output, hidden

    def initHidden(self):
        return torch.zeros(1, self.hidden_size)


def categoryFromOutput(output):
    top_n, top_i = output.topk(1)
    category_i = top_i[0].item()
    return all_categories[category_i], category_i


def main(sync, workdir):
    out = {"one_hot": lineToTensor("Jones"), "index": letterToIndex("J")}
    rnn = sync(CharRNN(n_letters, 12, len(all_categories)))
    criterion = nn.NLLLoss()
    optimizer = torch.optim.SGD(rnn.parameters(), lr=0.05)
    samples = [(c, n) for c in all_categories for n in names[c]]
    losses = []
    rnn.train()
    for epoch in range(2):
        for category, name in samples:
            category_tensor = torch.tensor([all_categories.index(category)], dtype=torch.long)
            line_tensor = lineToTensor(name)
            output = rnn(line_tensor)
            loss = criterion(output, category_tensor)
            loss.backward()
            nn.utils.clip_grad_norm_(rnn.parameters(), 3)
            optimizer.step()
            optimizer.zero_grad()
            losses.append(loss.item())
    out["losses"] = losses
    rnn.eval()
    with torch.no_grad():
        out["guesses"] = [
            categoryFromOutput(rnn(lineToTensor(n))) for n in ["Rossi", "Smith", "Girard"]
        ]
        confusion = torch.zeros(len(all_categories), len(all_categories))
        for category, name in samples:
            guess_i = categoryFromOutput(rnn(lineToTensor(name)))[1]
            confusion[all_categories.index(category)][guess_i] += 1
        for i in range(len(all_categories)):
            confusion[i] = confusion[i] / confusion[i].sum()
        out["confusion"] = confusion

    classic = sync(ClassicRNN(n_letters, 10, len(all_categories)))
    learning_rate = 0.005
    for category, name in samples[:6]:
        category_tensor = torch.tensor([all_categories.index(category)])
        line_tensor = lineToTensor(name)
        hidden = classic.initHidden()
        classic.zero_grad()
        for i in range(line_tensor.size()[0]):
            output, hidden = classic(line_tensor[i], hidden)
        loss = F.nll_loss(output, category_tensor)
        loss.backward()
        for p in classic.parameters():
            p.data.add_(p.grad.data, alpha=-learning_rate)
    out["classic_out"] = output
    out["classic_i2h"] = classic.i2h.weight
    return out
