"""bench.machine: the CPU other processes use while a benchmark measures."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.machine import Watch, family

# Uses 0.6 s of CPU, then idles (still alive when the watch is read).
SPINNER = (
    "import time\nend = time.process_time() + 0.6\n"
    "while time.process_time() < end: pass\ntime.sleep(5)"
)


@pytest.fixture
def spin(tmp_path):
    """Run the spinner under a name of its own (a process is named after the file it runs) and
    read a watch made by ``watch_for()`` once the spinner's CPU is spent."""
    python = tmp_path / "spinner-7f3a"
    python.symlink_to(Path(sys.executable))

    def spin_and_read(watch_for):
        spinner = subprocess.Popen([str(python), "-c", SPINNER])
        try:
            watch = Watch(ours=watch_for())
            time.sleep(1.5)
            return watch.since()
        finally:
            spinner.kill()
            spinner.wait()

    return spin_and_read


def test_a_busy_process_outside_the_measurement_is_counted_by_its_name(spin):
    busy = spin(lambda: {os.getpid()})

    assert busy.used["spinner-7f3a"] >= 0.5
    assert busy.elsewhere >= busy.used["spinner-7f3a"]
    assert busy.share >= 100 * 0.5 / busy.seconds


def test_the_measurement_and_its_children_are_not_counted(spin):
    busy = spin(lambda: family(os.getpid()))

    assert "spinner-7f3a" not in busy.used
