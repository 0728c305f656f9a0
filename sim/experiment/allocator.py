"""Keep freed memory in the process instead of handing it back to the kernel (glibc).

A replication allocates and frees arrays of several MB: utilities under K perturbed
saliences, the gains the coalition checks scan. By default glibc returns such blocks to the
kernel when they are freed (mmap threshold, heap trimming), so the next replication
page-faults its way through fresh zeroed pages: about two thirds of a stability check's
time on the default scenario (17 ms against 6 ms; benchmarks/sweep_throughput.py). Raising
both thresholds keeps the pages mapped; the cost is that a worker holds on to its peak heap
(a few tens of MB here) until it exits. Elsewhere than glibc this does nothing.

A job also frees each batch before it builds the next, which takes the cycle collector;
`freeze_long_lived` keeps that collection cheap.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import sys

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's largest allowed value on 64-bit systems
TRIM_THRESHOLD = 256 * 1024 * 1024


@functools.cache
def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds once per process; True if it took effect."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # musl or another libc without mallopt
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )


_modules_at_freeze = -1  # how many modules the process had at its last freeze


def freeze_long_lived() -> bool:
    """Collect, then set every object alive now (modules, configs, the first compiled job)
    aside from the cycle collector (`gc.freeze`): at a process's first job, and again
    whenever it has imported modules since (numba, some 10^5 objects, loads with the
    compiled kernels after its first anticipations). A job collects after each batch (its
    agents and model form cycles); that collection then scans only what the replications
    made: about a millisecond instead of ~50 ms with Hydra and pandas loaded, ~20 ms more
    with numba. An object alive at a freeze that later becomes cyclic garbage is never
    collected: a one-off per freeze. True when it froze."""
    global _modules_at_freeze
    if len(sys.modules) == _modules_at_freeze:
        return False
    gc.collect()
    gc.freeze()
    _modules_at_freeze = len(sys.modules)
    return True


def collect_batch() -> None:
    """Free a finished batch (its cycles): a collection, which `freeze_long_lived` makes
    when modules were imported during the batch."""
    if not freeze_long_lived():
        gc.collect()
