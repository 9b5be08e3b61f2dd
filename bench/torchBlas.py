"""Which BLAS a PyTorch process loaded, for the benchmark scripts' output.

Debian's python3-torch is built against the generic libblas.so.3: that is the reference BLAS
(≈ 2 GFLOP/s on a 512 product) unless OpenBLAS is installed (`apt-get install libopenblas0-pthread`),
so PyTorch's numbers mean little without saying which one ran.
"""


def loaded_blas():
    """The path of the libblas.so.3 mapped into this process: its folder names the implementation."""
    with open("/proc/self/maps") as maps:
        paths = sorted({line.split()[-1] for line in maps if line.rstrip().endswith("/libblas.so.3")})
    return paths[0] if paths else "unknown"
