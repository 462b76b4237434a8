"""bench.machine: the CPU other processes use while a benchmark measures."""

import os
import subprocess
import sys
import time

from bench.machine import Watch, family

# Uses 0.6 s of CPU, then idles (still alive when the watch is read).
SPINNER = (
    "import time\nend = time.process_time() + 0.6\n"
    "while time.process_time() < end: pass\ntime.sleep(5)"
)


def spin_and_read(watch_for) -> tuple:
    spinner = subprocess.Popen([sys.executable, "-c", SPINNER])
    try:
        watch = Watch(ours=watch_for())
        time.sleep(1.5)  # the spinner's CPU second is over, the process still there
        return watch.since()
    finally:
        spinner.kill()
        spinner.wait()


def test_a_busy_process_outside_the_measurement_is_counted_and_named():
    busy = spin_and_read(lambda: {os.getpid()})

    assert busy.elsewhere >= 0.5
    assert busy.busiest.startswith("python")
    assert busy.share >= 100 * 0.5 / busy.seconds


def test_the_measurement_and_its_children_are_not_counted():
    busy = spin_and_read(lambda: family(os.getpid()))

    assert busy.elsewhere < 0.3
