"""What else the machine did while a benchmark measured (Linux, from /proc).

A latency figure on a shared two-core machine says little without this: a line that misses its
goal while an autovacuum, a checkpoint or a kernel thread took half a core was measured on a
busy machine, not slow code. ``Watch`` sums the CPU time of every process outside the
measurement (the benchmark itself, its gunicorn and the PostgreSQL backends serving them) between
two readings, names the busiest, and counts the measured processes' major page faults (pages
read back from disk: the kernel had taken them away, as a proactive reclaim does).
"""

import os
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
# PostgreSQL's own processes that serve no client: their work is background load.
PG_BACKGROUND = (
    "checkpointer",
    "background writer",
    "walwriter",
    "autovacuum",
    "archiver",
    "logical replication",
    "stats collector",
)


@dataclass(frozen=True)
class Busy:
    """CPU seconds used outside the measurement between two readings, ``seconds`` apart."""

    seconds: float
    used: dict[str, float]  # CPU seconds by process name
    major_faults: int = 0

    @property
    def elsewhere(self) -> float:
        return sum(self.used.values())

    @property
    def busiest(self) -> str:
        return max(self.used, key=self.used.__getitem__) if self.used else ""

    @property
    def share(self) -> float:
        """Of one core, in per cent."""
        return 100 * self.elsewhere / self.seconds if self.seconds else 0.0

    def __str__(self) -> str:
        text = f"{self.share:.0f}% ({self.busiest})" if self.share >= 1 else "-"
        return f"{text}; {self.major_faults:,} major faults" if self.major_faults else text


def _processes() -> dict[int, tuple[str, float, int]]:
    """pid -> (name, CPU seconds so far, major faults so far) of every process, PostgreSQL's
    named by their role."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:  # ended meanwhile
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        if cmdline.startswith(b"postgres: "):
            name = cmdline.decode(errors="replace").strip("\0").replace("\0", " ")
        cpu = (int(fields[11]) + int(fields[12])) / TICKS
        found[int(stat.parent.name)] = (name, cpu, int(fields[9]))
    return found


def family(pid: int) -> set[int]:
    """``pid`` and every process below it (a gunicorn master and its workers)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        children.setdefault(int(text[text.rindex(")") + 2 :].split()[1]), []).append(
            int(stat.parent.name)
        )
    found, todo = {pid}, [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _measured(name: str, pid: int, ours: set[int]) -> bool:
    if pid in ours:
        return True
    # A PostgreSQL client backend ("postgres: user db 127.0.0.1(port) idle") serves the benchmark.
    return name.startswith("postgres: ") and not any(role in name for role in PG_BACKGROUND)


class Watch:
    """``Watch(ours)``: ``ours`` are the pids of the measurement (its process and its server's);
    ``watch.since()`` is the ``Busy`` since the last call (or since the watch was made)."""

    def __init__(self, ours: set[int]) -> None:
        self.ours = ours
        self._reset()

    def _reset(self) -> None:
        self._taken = os.times().elapsed
        self._cpu = _processes()

    def since(self) -> Busy:
        now, cpu = os.times().elapsed, _processes()
        used: dict[str, float] = {}
        faults = 0
        for pid, (name, seconds, majflt) in cpu.items():
            _name, seconds_before, majflt_before = self._cpu.get(pid, (name, 0.0, 0))
            if _measured(name, pid, self.ours):
                faults += majflt - majflt_before
            elif seconds > seconds_before:
                used[name] = used.get(name, 0.0) + seconds - seconds_before
        busy = Busy(seconds=now - self._taken, used=used, major_faults=faults)
        self._taken, self._cpu = now, cpu
        return busy
