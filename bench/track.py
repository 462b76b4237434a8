"""Website tracking intake: ``POST /t/e`` requests/s and p99 under gunicorn, beside a bare Django
view answering 204 in the same run; then the flush, and a count that every accepted page view is
in the database.

    DATABASE_URL=postgres://... REDIS_URL=redis://... \\
        .venv/bin/python -m bench.track [--requests 20000] [--workers 2] [--threads 4]

Starts gunicorn (``--workers`` gthread workers with ``--threads`` threads each, keep-alive,
DEBUG=0) on a free port of 127.0.0.1. The load generator is bounded: ``--clients`` processes,
each with ``--concurrency`` threads holding one keep-alive ``http.client`` connection, send
``--requests`` requests in all, as fast as the answers come. The per-address rate limit is
lifted for the run (all requests come from 127.0.0.1). Goals: at least 1,000 page views/s and at
least 50 % of the bare view's rate.
"""

import argparse
import http.client
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SERVER_ENV = {
    "DJANGO_SETTINGS_MODULE": "bench.track_settings",
    "DEBUG": "0",
    "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "0",
    "LOG_LEVEL": "WARNING",
    "LEADCRM_TRACK_RATE": "100000000/minute",
}
os.environ.update(SERVER_ENV)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from capture.buffer import RedisBuffer, get_buffer  # noqa: E402
from capture.services import track_flush  # noqa: E402
from leads.models import Event  # noqa: E402

GOAL_RATE = 1000.0
GOAL_SHARE = 0.5


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _body(index: int) -> bytes:
    page = ("/", "/pricing", "/blog/lead-scoring", "/careers/sales", "/produkt")[index % 5]
    return json.dumps(
        {
            "visitor_id": f"bench{index % 500:027d}",
            "url": f"https://www.example.com{page}?utm_source=bench&utm_campaign=bench-{index % 7}",
            "referrer": "https://www.google.com/",
            "title": f"Example page {index % 5}",
            "utm_source": "bench",
            "utm_campaign": f"bench-{index % 7}",
        }
    ).encode()


def _client_thread(
    port: int, path: str, bodies: list[bytes], content_type: str
) -> tuple[list[float], int]:
    """One keep-alive connection sending ``bodies`` one after another; latencies (ms) and the
    answers that accepted (200 or 204)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    latencies, accepted = [], 0
    headers = {"Content-Type": content_type, "Connection": "keep-alive"}
    try:
        for body in bodies:
            started = time.perf_counter()
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            latencies.append((time.perf_counter() - started) * 1000)
            accepted += response.status in (200, 204)
            if response.will_close:
                conn.close()
    finally:
        conn.close()
    return latencies, accepted


def _client_process(
    port: int, path: str, bodies: list[bytes], threads: int, content_type: str
) -> tuple[list[float], int]:
    shares = [bodies[n::threads] for n in range(threads)]
    with ThreadPoolExecutor(threads) as pool:
        results = list(
            pool.map(lambda share: _client_thread(port, path, share, content_type), shares)
        )
    return [ms for part, _a in results for ms in part], sum(a for _p, a in results)


def load(
    port: int,
    path: str,
    bodies: list[bytes],
    clients: int,
    threads: int,
    content_type: str = "text/plain;charset=UTF-8",
) -> dict:
    """POST ``bodies`` to ``path`` from ``clients`` processes with ``threads`` keep-alive
    connections each, as fast as the answers come."""
    started = time.perf_counter()
    with ProcessPoolExecutor(clients) as pool:
        results = list(
            pool.map(
                _client_process,
                [port] * clients,
                [path] * clients,
                [bodies[n::clients] for n in range(clients)],
                [threads] * clients,
                [content_type] * clients,
            )
        )
    elapsed = time.perf_counter() - started
    latencies = sorted(ms for part, _accepted in results for ms in part)
    return {
        "requests": len(latencies),
        "accepted": sum(accepted for _part, accepted in results),
        "rate": len(latencies) / elapsed,
        "p50": statistics.median(latencies),
        "p99": statistics.quantiles(latencies, n=100)[98],
    }


class Server:
    def __init__(self, workers: int, threads: int) -> None:
        self.port = _free_port()
        self.workers = workers
        self.threads = threads
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> "Server":
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "leadcrm.wsgi:application",
                f"--bind=127.0.0.1:{self.port}",
                f"--workers={self.workers}",
                "--worker-class=gthread",
                f"--threads={self.threads}",
                "--keep-alive=30",
                "--log-level=warning",
            ],
            cwd=BASE_DIR,
            env=os.environ.copy(),
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.__exit__()
        raise SystemExit("gunicorn did not answer /healthz within 30 s")

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--clients", type=int, default=2, help="load generator processes (2)")
    parser.add_argument("--concurrency", type=int, default=4, help="threads per process (4)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (4)")
    args = parser.parse_args(argv)
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        raise SystemExit("bench.track needs PostgreSQL and Redis: set DATABASE_URL and REDIS_URL")
    buffer = get_buffer()
    assert isinstance(buffer, RedisBuffer)
    while track_flush():  # whatever an earlier run left behind
        pass
    events_before = Event.objects.count()

    warmup = [_body(index) for index in range(max(200, args.requests // 20))]
    page_views = [_body(index) for index in range(args.requests)]
    with Server(args.workers, args.threads) as server:
        load(server.port, "/bench/bare", warmup, args.clients, args.concurrency)
        load(server.port, "/t/e", warmup, args.clients, args.concurrency)
        warm_accepted = buffer.pending()
        bare = load(server.port, "/bench/bare", page_views, args.clients, args.concurrency)
        track = load(server.port, "/t/e", page_views, args.clients, args.concurrency)

    accepted = warm_accepted + track["accepted"]
    pending = buffer.pending()
    started = time.perf_counter()
    flushed = 0
    while buffer.pending():
        flushed += track_flush()
    flush_seconds = time.perf_counter() - started
    stored = Event.objects.count() - events_before

    print(
        f"gunicorn {args.workers} gthread workers x {args.threads} threads; load: "
        f"{args.clients} processes x {args.concurrency} keep-alive connections, "
        f"{args.requests:,} requests per line"
    )
    for name, result in (("bare Django view (204)", bare), ("POST /t/e", track)):
        print(
            f"{name:24} {result['rate']:8,.0f} req/s   p50 {result['p50']:6.2f} ms   "
            f"p99 {result['p99']:6.2f} ms   ({result['accepted']:,} of {result['requests']:,} "
            "answered 204)"
        )
    share = track["rate"] / bare["rate"]
    print(
        f"/t/e reaches {share:.0%} of the bare view (goal ≥ {GOAL_SHARE:.0%}) and "
        f"{track['rate']:,.0f} req/s (goal ≥ {GOAL_RATE:,.0f})"
    )
    print(
        f"flush: {pending:,} buffered page views stored as {flushed:,} events in "
        f"{flush_seconds:.1f} s ({flushed / max(flush_seconds, 1e-9):,.0f} events/s)"
    )
    print(f"accepted {accepted:,}; new events in the database {stored:,}")
    if stored != accepted:
        raise SystemExit(f"LOST OR DUPLICATED: {accepted:,} accepted but {stored:,} stored")
    if track["rate"] < GOAL_RATE or share < GOAL_SHARE:
        print("GOAL MISSED")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
