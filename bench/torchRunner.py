"""PyTorch peer for the training-step benchmark (`npm run bench` runs it with Debian's python3-torch).

The same four models as bench/configs.ts: torch.nn.RNN (tanh) or torch.nn.LSTM, batch first, with
an nn.Linear head; cross-entropy on the logits for the softmax heads (the same value as a softmax
followed by categorical cross-entropy), MSE for the linear ones; Adam(1e-3); float32. The inputs
come from the same LCG as benchData in bench/configs.ts, so every framework sees the same numbers.

    python3 bench/torchRunner.py <C1|C2|C3|C4> <threads> [steps]

Prints one JSON BenchResult line (framework 'pytorch-<threads>t') and the BLAS library torch loaded
(see bench/torchBlas.py: the reference BLAS unless OpenBLAS is installed).
"""
import json
import os
import resource
import statistics
import sys
import time

# OpenBLAS sizes its thread pool when it is loaded and does not follow torch.set_num_threads.
THREADS = int(sys.argv[2]) if len(sys.argv) > 2 else 1
os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = str(THREADS)

import torch  # noqa: E402 (after the thread settings above)

sys.dont_write_bytecode = True  # no __pycache__ folder in bench/ from the import below
from torchBlas import loaded_blas  # noqa: E402

# (cell, batch, time, inputSize, hidden, input, head, outputs), as in bench/configs.ts.
CONFIGS = {
    "C1": ("elman", 64, 28, 28, 128, "dense", "lastSoftmax", 10),
    "C2": ("lstm", 32, 64, 64, 256, "oneHot", "stepSoftmax", 64),
    "C3": ("elman", 1, 300, 1, 3, "dense", "stepLinear", 1),
    "C4": ("elman", 128, 32, 256, 512, "dense", "stepLinear", 256),
}


def bench_data(n, seed):
    """benchData of bench/configs.ts: s <- 1664525 s + 1013904223 mod 2^32, value s / 2^32 - 0.5."""
    out = []
    s = seed & 0xFFFFFFFF
    for _ in range(n):
        s = (1664525 * s + 1013904223) & 0xFFFFFFFF
        out.append(s / 2**32 - 0.5)
    return torch.tensor(out, dtype=torch.float32)


def symbols(n, classes, seed):
    """Class indices in [0, classes), as the TypeScript runners derive them from benchData."""
    return ((bench_data(n, seed).double() + 0.5) * classes).floor().long() % classes


class SequenceModel(torch.nn.Module):
    def __init__(self, cell, input_size, hidden, outputs, per_step):
        super().__init__()
        recurrent = torch.nn.LSTM if cell == "lstm" else torch.nn.RNN
        self.recurrent = recurrent(input_size, hidden, batch_first=True)
        self.head = torch.nn.Linear(hidden, outputs)
        self.per_step = per_step

    def forward(self, x):
        hs, _ = self.recurrent(x)  # [B, T, H]
        return self.head(hs if self.per_step else hs[:, -1])


def main():
    name = sys.argv[1] if len(sys.argv) > 1 else "C1"
    steps = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    torch.set_num_threads(THREADS)
    torch.manual_seed(0)
    cell, batch, length, input_size, hidden, encoding, head, outputs = CONFIGS[name]

    if encoding == "oneHot":
        x = torch.nn.functional.one_hot(symbols(batch * length, input_size, 1), input_size).float()
        x = x.reshape(batch, length, input_size)
    else:
        x = bench_data(batch * length * input_size, 1).reshape(batch, length, input_size)
    if head == "stepLinear":
        y = bench_data(batch * length * outputs, 2).reshape(batch, length, outputs)
        loss_fn = torch.nn.MSELoss()
    else:
        # Class indices: cross-entropy against them equals it against the one-hot targets.
        y = symbols(batch * (length if head == "stepSoftmax" else 1), outputs, 2)
        ce = torch.nn.CrossEntropyLoss()
        loss_fn = lambda logits, target: ce(logits.reshape(-1, outputs), target)

    model = SequenceModel(cell, input_size, hidden, outputs, head != "lastSoftmax")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def train_step():
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        return loss.item()

    # Warm-up as WARMUP in bench/configs.ts: at least 2 steps, then until 100 steps or 3 s.
    warmup_start = time.perf_counter()
    warmup_steps = 0
    while warmup_steps < 2 or (warmup_steps < 100 and time.perf_counter() - warmup_start < 3):
        train_step()
        warmup_steps += 1
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        train_step()
        times.append((time.perf_counter() - start) * 1000)
    print(json.dumps({
        "framework": f"pytorch-{THREADS}t", "config": name, "medianMs": statistics.median(times),
        "steps": steps, "warmupSteps": warmup_steps,
        "peakRssMb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "blas": loaded_blas(),
    }))


if __name__ == "__main__":
    main()
