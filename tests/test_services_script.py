"""scripts/services.sh: two checkouts testing at once must not break each other."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
from django.conf import settings

SCRIPT = str(Path(settings.BASE_DIR) / "scripts" / "services.sh")


@pytest.fixture
def data_dirs():
    """Directories straight under /tmp: the postgres user must reach them (pytest's tmp_path is
    private to root)."""
    made: list[Path] = []

    def make() -> Path:
        made.append(Path(tempfile.mkdtemp(prefix="leadcrm-services-test.")))
        return made[-1]

    yield make
    for path in made:
        shutil.rmtree(path, ignore_errors=True)


def services(command: str, data_dir: Path, **ports: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADCRM_TEST_")}
    return subprocess.run(
        [SCRIPT, command, str(data_dir)],
        env={**env, **ports},
        capture_output=True,
        text=True,
        timeout=90,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ports_of(data_dir: Path) -> tuple[int, int]:
    """The PostgreSQL and Redis ports written into DIR/env."""
    urls = dict(
        line.removeprefix("export ").split("=", 1)
        for line in (data_dir / "env").read_text().splitlines()
    )
    return (
        int(urls["DATABASE_URL"].rsplit(":", 1)[1].split("/")[0]),
        int(urls["REDIS_URL"].rsplit(":", 1)[1].split("/")[0]),
    )


def answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def test_it_runs_two_sets_side_by_side_and_stops_only_its_own(data_dirs):
    first, second = data_dirs(), data_dirs()
    try:
        assert services("start", first).returncode == 0
        assert services("start", second).returncode == 0
        first_ports, second_ports = ports_of(first), ports_of(second)
        assert len({*first_ports, *second_ports}) == 4
        assert all(answers(port) for port in (*first_ports, *second_ports))

        services("stop", first)

        assert not any(answers(port) for port in first_ports)
        assert all(answers(port) for port in second_ports)
        assert not first.exists()
    finally:
        services("stop", first)
        services("stop", second)
    assert not any(answers(port) for port in second_ports)


def test_it_leaves_a_foreign_redis_alone_when_its_port_was_taken(tmp_path, data_dirs):
    """Seen: a checkout whose Redis could not bind its port shut down the other checkout's Redis
    on that port when it cleaned up (`redis-cli -p PORT shutdown`)."""
    foreign, ours = tmp_path / "foreign", data_dirs()
    foreign.mkdir()
    port = free_port()
    subprocess.run(
        [
            *("redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""),
            *("--daemonize", "yes", "--dir", str(foreign), "--pidfile", str(foreign / "pid")),
        ],
        check=True,
    )
    try:
        started = services("start", ours, LEADCRM_TEST_REDIS_PORT=str(port))
        services("stop", ours, LEADCRM_TEST_REDIS_PORT=str(port))

        assert started.returncode == 1
        assert f"Redis did not start on port {port}" in started.stderr
        assert answers(port)
        assert not ours.exists()
    finally:
        os.kill(int((foreign / "pid").read_text()), signal.SIGTERM)
