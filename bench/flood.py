"""The switch flood of ``make bench`` on its own, for working on it:

    .venv/bin/python bench/flood.py [--students 200] [--seconds 20] [--workers 4] [--rounds 1]

Seeds a throw-away PostgreSQL database beside ``BENCH_POSTGRES_URL`` (``<name>_flood``, dropped
at the end), serves it as the README's production recipe does (gunicorn with uvicorn workers,
``project.asgi``, Redis at ``BENCH_REDIS_URL``) on ``BENCH_PORT`` (default 18800) + 5, runs
``http_load.flood`` (the teacher stopping and starting every 2 s) ``--rounds`` times and checks
the tree invariants in SQL after each. Prints one JSON object per round, with the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import http_load  # noqa: E402
from bench.run import postgres_database  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    postgres = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/bench")
    redis = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    port = int(os.environ.get("BENCH_PORT", "18800")) + 5
    with postgres_database(postgres, "flood") as url, tempfile.TemporaryDirectory() as logdir:
        env = http_load.base_env(url, REDIS_URL=redis)
        seed = json.loads(http_load.python("bench/seed.py", "--students", str(args.students), env=env).strip())
        for number in range(args.rounds):
            load_before = os.getloadavg()
            with http_load.server("flood", env, port, workers=args.workers, kind="asgi", logdir=Path(logdir)) as srv:
                result = http_load.flood(srv, seed, students=args.students, seconds=args.seconds)
            result["invariant violations"] = http_load.invariants(env)
            result["round"] = number + 1
            result["load before"] = [round(x, 1) for x in load_before]
            result["load after"] = [round(x, 1) for x in os.getloadavg()]
            print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
