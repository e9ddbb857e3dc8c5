"""The HTTP part of ``make bench``: real servers, wrk, the switch flood.

Servers are started the way ``make serve`` and the README's production recipe start them
(gunicorn managing uvicorn workers, ``project.asgi``), with ``DJANGO_SETTINGS_MODULE=bench.settings``
so the floor views (``bench/floor.py``) are served beside the API. Every figure is a ratio to a
floor measured in the same run, subjects and floors interleaved round by round.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import multiprocessing
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OCS = "/ocs/v2.php/apps/spreed/api"
HEADERS = {"OCS-APIRequest": "true", "Accept": "application/json"}


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def base_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "REDIS_", "DATABASE_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DJANGO_SECRET_KEY="bench-" + "k" * 44,
        DATABASE_URL=database_url,
        BRUTEFORCE_PROTECTION="0",
        DJANGO_LOG_LEVEL="ERROR",
    )
    env.update(extra)
    return env


def python(*args: str, env: dict[str, str], timeout: int = 900) -> str:
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextlib.contextmanager
def server(name: str, env: dict[str, str], port: int, *, workers: int, kind: str, logdir: Path) -> Iterator[Server]:
    """gunicorn on ``port``: ``kind`` "asgi" (uvicorn workers, as ``make serve``) or "sync"
    (gunicorn's sync workers with ``project.wsgi``, the comparison of the issue)."""
    if kind == "asgi":
        app = ["project.asgi:application", "--worker-class", "uvicorn_worker.UvicornWorker"]
    else:
        app = ["project.wsgi:application", "--worker-class", "sync"]
    log = logdir / f"server-{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", *app, "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
             "--backlog", "4096", "--timeout", "120"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"server {name} did not start, see {log}") from None
                time.sleep(0.2)
        yield Server(name, port, process, log)
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def request(srv: Server, method: str, path: str, auth: str, body: dict | None = None) -> tuple[int, bytes]:
    return _call(srv.port, method, path, auth, body)


def _call(port: int, method: str, path: str, auth: str, body: dict | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {**HEADERS, "Authorization": auth}
    data = None
    if body is not None:
        data = urllib.parse.urlencode(body)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, data, headers)
    answer = conn.getresponse()
    payload = answer.read()
    conn.close()
    return answer.status, payload


# --- wrk ------------------------------------------------------------------------------------

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


@dataclass
class WrkResult:
    rps: float
    p50: float
    p99: float
    non_2xx: int
    socket_errors: int


def wrk(url: str, auth: str | None, *, seconds: float, connections: int) -> WrkResult:
    command = [
        "wrk",
        "-t",
        "1",
        "-c",
        str(connections),
        "-d",
        f"{max(1, round(seconds))}s",
        "--latency",
        "--timeout",
        "10s",
    ]
    for key, value in HEADERS.items():
        command += ["-H", f"{key}: {value}"]
    if auth:
        command += ["-H", f"Authorization: {auth}"]
    out = subprocess.run([*command, url], capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    non = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return WrkResult(rps, p50, p99, int(non.group(1)) if non else 0, sum(map(int, errors.groups())) if errors else 0)


@dataclass
class Subject:
    name: str
    url: str
    auth: str | None
    rounds: list[WrkResult] = field(default_factory=list)


def warm(subjects: list[Subject], port: int) -> None:
    """A few concurrent requests per subject first, so every worker has imported, compiled and
    connected (a worker's first request takes seconds) before anything is timed."""

    def one(subject: Subject) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        path = subject.url.split(str(port), 1)[1]
        for _ in range(3):
            conn.request("GET", path, headers={**HEADERS, **({"Authorization": subject.auth} if subject.auth else {})})
            conn.getresponse().read()
        conn.close()

    threads = [threading.Thread(target=one, args=(subject,)) for subject in subjects for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def interleaved(subjects: list[Subject], *, rounds: int, seconds: float, connections: int) -> None:
    """Each round runs every subject once, in an order rotated per round, so a slow phase of the
    machine hits all subjects alike."""
    for number in range(rounds):
        order = subjects[number % len(subjects) :] + subjects[: number % len(subjects)]
        for subject in order:
            subject.rounds.append(wrk(subject.url, subject.auth, seconds=seconds, connections=connections))


def ratio_summary(subject: Subject, floor: Subject) -> dict[str, object]:
    ratios = [s.rps / f.rps for s, f in zip(subject.rounds, floor.rounds, strict=True) if f.rps]
    tails = [s.p99 / s.p50 for s in subject.rounds if s.p50]
    return {
        "subject": subject.name,
        "floor": floor.name,
        "req/s median": round(statistics.median(s.rps for s in subject.rounds), 1),
        "ratio median": round(statistics.median(ratios), 3) if ratios else 0.0,
        "ratio min": round(min(ratios), 3) if ratios else 0.0,
        "ratio max": round(max(ratios), 3) if ratios else 0.0,
        "p50 ms": round(statistics.median(s.p50 for s in subject.rounds), 2),
        "p99 ms": round(statistics.median(s.p99 for s in subject.rounds), 2),
        "p99/p50 median": round(statistics.median(tails), 2) if tails else None,
        "p99/p50 max": round(max(tails), 2) if tails else None,
        "non-2xx": sum(s.non_2xx for s in subject.rounds),
        "socket errors": sum(s.socket_errors for s in subject.rounds),
    }


def reads(srv: Server, seed: dict, *, rounds: int, seconds: float, connections: int) -> list[dict[str, object]]:
    """The four reads and the two floors, interleaved; ratios to the authenticated floor, and
    the authenticated floor to the unauthenticated one (authentication's cost)."""
    creds = seed["credentials"]
    reader = basic("reader", creds["reader"])
    teacher = basic("teacher", creds["teacher"])
    floor_auth = Subject("floor (Basic app password)", f"{srv.base}/bench/floor/auth", reader)
    floor_anon = Subject("floor (unauthenticated)", f"{srv.base}/bench/floor/anon", None)
    subjects = [
        floor_auth,
        floor_anon,
        Subject("GET /v4/room (50 conversations)", f"{srv.base}{OCS}/v4/room", reader),
        Subject("GET /v4/room/{token}", f"{srv.base}{OCS}/v4/room/{seed['room']}", reader),
        Subject(
            "GET /v4/room/{token}/breakout-rooms (20)",
            f"{srv.base}{OCS}/v4/room/{seed['parent']}/breakout-rooms",
            teacher,
        ),
        Subject("chat page (limit 100)", f"{srv.base}{OCS}/v1/chat/{seed['room']}?lookIntoFuture=0&limit=100", reader),
    ]
    warm(subjects, srv.port)
    interleaved(subjects, rounds=rounds, seconds=seconds, connections=connections)
    results = [ratio_summary(floor_auth, floor_anon)]
    results[0]["subject"] = "authentication: floor (Basic) vs floor (none)"
    results += [ratio_summary(subject, floor_auth) for subject in subjects[2:]]
    results.append(ratio_summary(floor_anon, floor_anon) | {"subject": "floor (unauthenticated) itself"})
    return results


def floors_compare(asgi: Server, sync: Server, seed: dict, *, rounds: int, seconds: float, connections: int) -> dict:
    """The authenticated floor as ``make serve`` serves it (ASGI) against gunicorn sync workers."""
    auth = basic("reader", seed["credentials"]["reader"])
    a = Subject("floor under ASGI (make serve)", f"{asgi.base}/bench/floor/auth", auth)
    s = Subject("floor under gunicorn sync workers", f"{sync.base}/bench/floor/auth", auth)
    warm([a], asgi.port)
    warm([s], sync.port)
    interleaved([a, s], rounds=rounds, seconds=seconds, connections=connections)
    return ratio_summary(a, s)


# --- the switch flood -----------------------------------------------------------------------


def _percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * fraction))], 1)


def _teacher(
    port: int, path: str, auth: str, seconds: float, period: float, go: Any, results: Any
) -> None:  # pragma: no cover - runs in a process of its own
    """The teacher of the flood: a stop or start every ``period`` seconds for ``seconds``, then the
    rooms left started (as seeded). Puts [(operation, status, ms, payload head)] on ``results``."""
    go.wait()
    began_at = time.monotonic()
    running = True  # the seed leaves the rooms started
    done: list[tuple[str, int, float, str, float]] = []
    while time.monotonic() - began_at < seconds:
        time.sleep(period)
        method = "DELETE" if running else "POST"
        began, sent_at = time.perf_counter(), time.time()
        status, payload = _call(port, method, path, auth)
        done.append((method, status, (time.perf_counter() - began) * 1000, repr(payload[:120]), sent_at))
        if status == 200:
            running = not running
    if not running:
        _call(port, "POST", path, auth)
    results.put(done)


def flood(srv: Server, seed: dict, *, students: int, seconds: float, period: float = 2.0) -> dict[str, object]:
    """``students`` students switch rooms as fast as they can while the teacher stops and starts
    the breakout rooms every ``period`` seconds; latencies, statuses, errors.

    The students are threads of this process; the teacher is a process of its own (another
    device), so their client's interpreter lock does not add to the teacher's latencies."""
    creds = seed["credentials"]
    parent, rooms = seed["parent"], seed["breakout_rooms"]
    teacher = basic("teacher", creds["teacher"])
    names = [name for name in creds if name.startswith("student")][:students]
    stop = threading.Event()
    lock = threading.Lock()
    switch_ms: list[float] = []
    moderator_ms: list[float] = []
    statuses: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    spawn = multiprocessing.get_context("spawn")
    go, results = spawn.Event(), spawn.Queue()
    moderator = spawn.Process(
        target=_teacher,
        args=(srv.port, f"{OCS}/v1/breakout-rooms/{parent}/rooms", teacher, seconds, period, go, results),
    )
    moderator.start()

    def student(name: str) -> None:
        auth = basic(name, creds[name])
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
        rng = random.Random(name)
        while not stop.is_set():
            body = urllib.parse.urlencode({"target": rng.choice(rooms)})
            began = time.perf_counter()
            try:
                conn.request(
                    "POST", f"{OCS}/v1/breakout-rooms/{parent}/switch", body,
                    {**HEADERS, "Authorization": auth, "Content-Type": "application/x-www-form-urlencoded"},
                )  # fmt: skip
                answer = conn.getresponse()
                payload = answer.read()
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    errors[f"connection: {type(exc).__name__}"] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
                continue
            elapsed = (time.perf_counter() - began) * 1000
            with lock:
                statuses[f"switch {answer.status}"] += 1
                if answer.status == 200:
                    switch_ms.append(elapsed)
                elif answer.status == 400 and b'"status"' in payload:
                    pass  # refused while stopped: the contract's answer
                else:
                    errors[f"switch {answer.status} {payload[:120]!r}"] += 1
        conn.close()

    threads = [threading.Thread(target=student, args=(name,), daemon=True) for name in names]
    for thread in threads:
        thread.start()
    started_at = time.monotonic()
    go.set()
    done = results.get(timeout=seconds + 600)
    moderator.join(60)
    stop.set()
    flooded = time.monotonic() - started_at
    for method, status, elapsed, payload, _ in done:
        statuses[f"{'stop' if method == 'DELETE' else 'start'} {status}"] += 1
        if status == 200:
            moderator_ms.append(elapsed)
        else:
            errors[f"moderator {method} {status} {payload}"] += 1
    deadline = time.monotonic() + 30
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    pending = sum(thread.is_alive() for thread in threads)
    log = srv.log.read_text(errors="replace")
    return {
        "students": len(names),
        "seconds": seconds,
        "switches ok": len(switch_ms),
        # Little's law: with every student always waiting for an answer, the mean switch
        # latency is the number of students divided by this rate.
        "switch answers per s": round(sum(n for k, n in statuses.items() if k.startswith("switch")) / flooded, 1),
        "switch p50 ms": _percentile(switch_ms, 0.5),
        "switch p99 ms": _percentile(switch_ms, 0.99),
        "moderator ops": len(moderator_ms),
        "moderator p50 ms": _percentile(moderator_ms, 0.5),
        "moderator p99 ms": _percentile(moderator_ms, 0.99),
        "moderator max ms": _percentile(moderator_ms, 1.0),
        "moderator ops (method, status, ms, sent at)": [(m, s, round(ms), round(at, 2)) for m, s, ms, _, at in done],
        "statuses": dict(statuses),
        "errors": sum(errors.values()),
        "requests unanswered 30 s after the end": pending,
        "error kinds": dict(errors.most_common(5)),
        "deadlocks in server log": log.lower().count("deadlock"),
        "tracebacks in server log": log.count("Traceback"),
    }


def invariants(env: dict[str, str]) -> list[str]:
    """The SQL check of the tree invariants (``tests/reliability/invariants.py``) on the flooded
    database."""
    code = (
        "import json, django; django.setup()\n"
        "from tests.reliability.invariants import tree_violations\n"
        "print(json.dumps(tree_violations()))\n"
    )
    return json.loads(python("-c", code, env=env))
