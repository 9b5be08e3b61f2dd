"""PyTorch's matrix product on one thread for `npm run bench:matmul`: float32 n×n times n×n.

    python3 bench/torchMatmul.py [n] [runs]

Prints one JSON line: median and best GFLOP/s (2·n³ / time) after a warm-up, and the BLAS library
torch loaded (see bench/torchBlas.py).
"""
import json
import os
import statistics
import sys
import time

# One thread for the BLAS too: OpenBLAS sizes its pool when loaded, not from torch.set_num_threads.
os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = "1"

import torch  # noqa: E402 (after the thread settings above)

sys.dont_write_bytecode = True  # no __pycache__ folder in bench/ from the import below
from torchBlas import loaded_blas  # noqa: E402


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 512
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    torch.set_num_threads(1)
    a = torch.sin(torch.arange(n * n, dtype=torch.float32) * 0.7).reshape(n, n)
    b = a.clone()
    until = time.perf_counter() + 0.4
    while time.perf_counter() < until:
        torch.mm(a, b)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        torch.mm(a, b)
        times.append(time.perf_counter() - start)
    flop = 2 * n**3
    print(json.dumps({
        "medianGflops": flop / statistics.median(times) / 1e9, "bestGflops": flop / min(times) / 1e9,
        "blas": loaded_blas(),
    }))


if __name__ == "__main__":
    main()
