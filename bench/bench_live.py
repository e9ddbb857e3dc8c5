"""Benchmark: N clients long-polling one room on a real server (gunicorn, 2 uvicorn workers).

Run: ``python bench/bench_live.py [--clients 2000] [--workers 2]`` (``DATABASE_URL=postgres://...``
for PostgreSQL: a throw-away database ``<name>_bench`` is created and dropped; SQLite uses a file
in a temporary directory; ``--redis`` adds ``REDIS_URL``). Not a test: it prints figures.

It seeds the demo class, starts the server, opens ``--clients`` connections that each wait in
``GET .../chat/{token}?lookIntoFuture=1&timeout=30``, measures the server's memory (RSS of the
master and its workers) idle and while they all wait, then posts one message and measures, for
each client, the time from the post's answer (the commit) to its 200 arriving: p50, p99, max.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-password"
V1 = "/ocs/v2.php/apps/spreed/api/v1"
REQUEST_TIMEOUT_SECONDS = 60


def rss_mb(pid: int) -> float:
    """RSS of ``pid`` and its children, in MiB."""
    total = 0
    pids = [pid]
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    pids += [int(child) for child in children]
    for one in pids:
        try:
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total / 1024


def threads(pid: int) -> int:
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    count = 0
    for one in [pid, *map(int, children)]:
        with contextlib.suppress(FileNotFoundError):
            count += len(os.listdir(f"/proc/{one}/task"))
    return count


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of ``pid`` and its children, in seconds."""
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    total = 0
    for one in [pid, *map(int, children)]:
        with contextlib.suppress(FileNotFoundError, IndexError):
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


async def quiet(pid: int, *, limit: float, window: float = 1.0, busy: float = 0.1) -> float:
    """Wait until the server uses less than ``busy`` CPU seconds per ``window`` (its waiting
    clients are all parked), at most ``limit`` seconds; returns the seconds waited."""
    began = time.monotonic()
    before = cpu_seconds(pid)
    while time.monotonic() - began < limit:
        await asyncio.sleep(window)
        now = cpu_seconds(pid)
        if now - before < busy * window:
            break
        before = now
    return time.monotonic() - began


async def request(port: int, method: str, path: str, auth: str, body: str = "") -> tuple[int, bytes]:
    """One request on a connection of its own; at most ``REQUEST_TIMEOUT_SECONDS``."""
    return await asyncio.wait_for(_request(port, method, path, auth, body), REQUEST_TIMEOUT_SECONDS)


async def _request(port: int, method: str, path: str, auth: str, body: str = "") -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {auth}\r\nOCS-APIRequest: true\r\n"
        f"Accept: application/json\r\nConnection: close\r\n"
    )
    if body:
        head += f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
    writer.write((head + "\r\n" + body).encode())
    await writer.drain()
    raw = await reader.read()
    writer.close()
    status = int(raw.split(b" ", 2)[1]) if raw else 0
    return status, raw.partition(b"\r\n\r\n")[2]


async def waiting_client(
    port: int, path: str, auth: str, results: list[float], opened: list[int], statuses: Counter[str]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {auth}\r\nOCS-APIRequest: true\r\n"
            "Accept: application/json\r\nConnection: close\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    opened.append(1)
    first = await reader.readline()
    arrived = time.monotonic()
    await reader.read()
    writer.close()
    statuses[first.split(b" ")[1].decode() if first else "closed"] += 1
    if b" 200 " in first:
        results.append(arrived)


async def run(port: int, pid: int, token: str, clients: int, settle: float) -> dict[str, object]:
    teacher = "Basic " + base64.b64encode(f"teacher:{PASSWORD}".encode()).decode()
    student = "Basic " + base64.b64encode(f"student1:{PASSWORD}".encode()).decode()
    status, body = await request(port, "GET", f"{V1}/chat/{token}?limit=1", teacher)
    last = json.loads(body)["ocs"]["data"][0]["id"]
    # Warm the credential cache of every worker (password hashing is deliberately slow).
    await asyncio.gather(*(request(port, "GET", f"{V1}/chat/{token}?limit=1", teacher) for _ in range(8)))
    await asyncio.gather(*(request(port, "GET", f"{V1}/chat/{token}?limit=1", student) for _ in range(8)))
    idle_mb, idle_threads = rss_mb(pid), threads(pid)
    path = f"{V1}/chat/{token}?lookIntoFuture=1&lastKnownMessageId={last}&timeout=30"
    results: list[float] = []
    opened: list[int] = []
    statuses: Counter[str] = Counter()
    started = time.monotonic()
    tasks = []
    for i in range(clients):
        tasks.append(asyncio.create_task(waiting_client(port, path, teacher, results, opened, statuses)))
        if i % 100 == 99:
            await asyncio.sleep(0.05)
    while len(opened) < clients:
        await asyncio.sleep(0.05)
    # The server reads and checks every request before it parks it: wait until its processes
    # are idle (every first read done), at most ``settle`` seconds.
    await asyncio.sleep(1.0)
    waited = await quiet(pid, limit=settle)
    ramp = time.monotonic() - started
    holding_mb, holding_threads = rss_mb(pid), threads(pid)
    status, _ = await request(port, "POST", f"{V1}/chat/{token}", student, urllib.parse.urlencode({"message": "go"}))
    committed = time.monotonic()
    await asyncio.wait_for(asyncio.gather(*tasks), 60)
    latencies = sorted(max(0.0, at - committed) * 1000 for at in results)
    return {
        "clients": clients,
        "answers by status": dict(statuses),
        "ramp + settle (s)": round(ramp, 1),
        "server idle before the post": "yes" if waited < settle else f"no (still busy after {settle:.0f} s)",
        "server RSS idle (MiB)": round(idle_mb, 1),
        "server RSS holding (MiB)": round(holding_mb, 1),
        "per waiting client (KiB)": round((holding_mb - idle_mb) * 1024 / clients, 1),
        "threads idle / holding": f"{idle_threads} / {holding_threads}",
        "wake-up p50 (ms)": round(statistics.median(latencies), 1) if latencies else None,
        "wake-up p99 (ms)": round(latencies[int(len(latencies) * 0.99) - 1], 1) if latencies else None,
        "wake-up max (ms)": round(latencies[-1], 1) if latencies else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--settle", type=float, default=60.0, help="most seconds to wait for the server to be idle after the connects"
    )
    parser.add_argument("--redis", action="store_true", help="fan out through Redis (REDIS_URL)")
    parser.add_argument("--port", type=int, default=0, help="the server's port (default: any free one)")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-live-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(DJANGO_SECRET_KEY="bench-" + "x" * 40, DEMO_PASSWORD=PASSWORD, BRUTEFORCE_PROTECTION="0")
    database = os.environ.get("DATABASE_URL", "")
    admin = None
    if database.startswith("postgres"):
        import psycopg

        parts = urllib.parse.urlparse(database)
        name = parts.path.lstrip("/") + "_bench"
        admin = psycopg.connect(database.rsplit("/", 1)[0] + "/postgres", autocommit=True)
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
        env["DATABASE_URL"] = database.rsplit("/", 1)[0] + "/" + name
    else:
        env["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    if args.redis:
        env["REDIS_URL"] = "redis://127.0.0.1:6379/0"
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    out = subprocess.run([*manage, "seed_demo", "--students", "2"], cwd=ROOT, env=env, check=True, capture_output=True)
    token = out.stdout.decode().strip().splitlines()[-1]
    port = args.port
    if not port:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "project.asgi:application", "--worker-class",
         "uvicorn_worker.UvicornWorker", "--workers", str(args.workers), "--bind", f"127.0.0.1:{port}",
         "--backlog", "4096"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        time.sleep(2)
        figures = asyncio.run(run(port, server.pid, token, args.clients, args.settle))
    finally:
        server.terminate()
        server.wait(30)
        if admin is not None:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    kind = "PostgreSQL" if admin else "SQLite"
    print(f"{kind}{' + Redis' if args.redis else ''}, {args.workers} workers:")
    for key, value in figures.items():
        print(f"  {key:28} {value}")


if __name__ == "__main__":
    main()
