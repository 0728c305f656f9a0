"""The allocator setting (sim.experiment.allocator) takes effect on glibc and is applied once."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from sim.experiment.allocator import keep_freed_memory

GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"


@pytest.mark.skipif(not GLIBC, reason="mallopt is glibc's")
def test_glibc_takes_the_thresholds_once():
    assert keep_freed_memory() is True
    assert keep_freed_memory.cache_info().currsize == 1


def in_a_fresh_process(*lines: str) -> list[str]:
    """What `lines` print, run after two jobs of `max_rounds=3` in a new Python process."""
    code = "\n".join(
        [
            "import gc",
            "from sim.experiment import allocator",
            "from sim.experiment.jobs import run_replications",
            "from tests.helpers_model import compose",
            "before = gc.get_freeze_count()",
            "run_replications(compose('max_rounds=3'))",
            "run_replications(compose('max_rounds=3'))",
            *lines,
        ]
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.split()


def test_a_job_sets_it_in_its_own_process():
    # the jobs made the process's one call
    assert in_a_fresh_process("print(allocator.keep_freed_memory.cache_info().misses)") == ["1"]


def test_a_job_sets_what_was_alive_before_it_aside_from_the_collector_once():
    frozen = "print(gc.get_freeze_count() - before > 1000)"
    again = "print(allocator.freeze_long_lived())"  # nothing imported since the jobs froze
    assert in_a_fresh_process(frozen, again) == ["True", "False"]


def test_a_batch_after_new_imports_sets_them_aside_too():
    """numba loads after a process's first anticipations: what it brings (~10^5 objects)
    is frozen after the next batch, so that later collections do not scan it."""
    lines = [
        "after_jobs = gc.get_freeze_count()",
        "allocator.collect_batch()",  # nothing new: a collection, no freeze
        "print(abs(gc.get_freeze_count() - after_jobs) < 1000)",
        "import sim.core.kernels",
        "allocator.collect_batch()",
        "print(gc.get_freeze_count() - after_jobs > 10_000, allocator.freeze_long_lived())",
    ]
    assert in_a_fresh_process(*lines) == ["True", "True", "False"]
