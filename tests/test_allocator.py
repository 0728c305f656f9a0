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


def test_a_job_sets_it_in_its_own_process():
    code = (
        "from sim.experiment.allocator import keep_freed_memory\n"
        "from sim.experiment.jobs import run_replications\n"
        "from tests.helpers_model import compose\n"
        "run_replications(compose('max_rounds=3'))\n"
        "print(keep_freed_memory.cache_info().misses)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "1"  # the job made the process's one call


def test_a_job_sets_what_was_alive_before_it_aside_from_the_collector_once():
    code = (
        "import gc\n"
        "from sim.experiment.allocator import freeze_long_lived\n"
        "from sim.experiment.jobs import run_replications\n"
        "from tests.helpers_model import compose\n"
        "before = gc.get_freeze_count()\n"
        "run_replications(compose('max_rounds=3'))\n"
        "run_replications(compose('max_rounds=3'))\n"
        "print(gc.get_freeze_count() - before > 1000, freeze_long_lived.cache_info().misses)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["True", "1"]
