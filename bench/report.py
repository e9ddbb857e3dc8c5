"""Turns the figures of ``bench/run.py`` into the markdown report (the issue's table first)."""

from __future__ import annotations

from typing import Any

SERVE = "make serve (SQLite, 2 uvicorn workers)"
PROD = "production recipe (PostgreSQL + Redis, 4 uvicorn workers)"


def _read(results: dict[str, Any], server: str, prefix: str) -> dict[str, Any] | None:
    for row in results.get(server, {}).get("reads", []):
        if row["subject"].startswith(prefix):
            return row
    return None


def _ratio(row: dict[str, Any] | None) -> str:
    if not row:
        return "n/a"
    return f"{row['ratio median']:.2f} ({row['ratio min']:.2f}-{row['ratio max']:.2f})"


def _configure(results: dict[str, Any], vendor: str, size: str = "3000") -> str:
    sizes = results.get(f"lifecycle {vendor}", {}).get("sizes", {})
    ops = sizes.get(size, {}).get("operations", {})
    parts = [
        f"mode {mode}: {ops[f'mode {mode} configure']['x floor median']:.1f}"
        f" ({ops[f'mode {mode} configure']['x floor min']:.1f}-{ops[f'mode {mode} configure']['x floor max']:.1f})"
        for mode in (1, 2, 3)
        if f"mode {mode} configure" in ops
    ]
    return "; ".join(parts) or "n/a"


def _queries(results: dict[str, Any], vendor: str, label: str) -> str:
    sizes = results.get(f"lifecycle {vendor}", {}).get("sizes", {})
    counts = [str(s.get("operations", {}).get(label, {}).get("queries", "?")) for s in sizes.values()]
    return " → ".join(counts) if counts else "n/a"


def markdown(results: dict[str, Any]) -> str:
    load_after = tuple(round(x, 1) for x in results.get("load after", ()))
    lines = [
        f"# make bench: {results['started']}",
        "",
        f"Machine: {results['machine']}; load after: {load_after}; {results.get('minutes')} min.",
        "",
    ]
    parts = results.get("parts", {})
    if parts:
        lines += ["| part | elapsed | load (1 min) at its end |", "|---|---|---|"]
        for part, figures in parts.items():
            seconds = figures["seconds"]
            lines.append(f"| {part} | {seconds / 60:.1f} min ({seconds:.0f} s) | {figures['load at its end']} |")
        lines.append("")
    lines += ["| Measure | make serve (SQLite) | production (PostgreSQL + Redis) | Target |", "|---|---|---|---|"]
    for title, prefix in (
        ("`GET /v4/room` (user in 50 conversations) ÷ floor req/s", "GET /v4/room ("),
        ("`GET /v4/room/{token}` ÷ floor", "GET /v4/room/{token}"),
        ("`GET /v4/room/{token}/breakout-rooms` (20 rooms) ÷ floor", "GET /v4/room/{token}/breakout"),
        ("chat page (limit 100) ÷ floor", "chat page"),
    ):
        lines.append(
            f"| {title} | {_ratio(_read(results, SERVE, prefix))} | {_ratio(_read(results, PROD, prefix))} | ≥ 0.5 |"
        )
    lines.append(
        f"| app-password Basic auth ÷ the same view unauthenticated | {_ratio(_read(results, SERVE, 'authentication'))}"
        f" | {_ratio(_read(results, PROD, 'authentication'))} | ≥ 0.8 |"
    )

    def tails(server: str) -> str:
        rows = [
            r
            for r in results.get(server, {}).get("reads", [])
            if r["subject"].startswith(("GET", "chat")) and r["p99/p50 median"] is not None
        ]
        if not rows:
            return "n/a"
        return f"{min(r['p99/p50 median'] for r in rows):.1f}-{max(r['p99/p50 median'] for r in rows):.1f}"

    lines.append(f"| p99 ÷ p50 of each read under load (median of rounds) | {tails(SERVE)} | {tails(PROD)} | ≤ 3 |")
    lines.append(
        f"| configure 3,000 students ÷ raw `executemany` of the same rows | {_configure(results, 'sqlite')}"
        f" | {_configure(results, 'postgresql')} | ≤ 10 (SQLite), ≤ 3 (PostgreSQL) |"
    )
    lines.append(
        f"| configure query count at N = 30 → 300 → 3,000 (mode 1) | {_queries(results, 'sqlite', 'mode 1 configure')}"
        f" | {_queries(results, 'postgresql', 'mode 1 configure')} | constant |"
    )

    def flood(server: str, key: str) -> str:
        value = results.get(server, {}).get("flood", {}).get(key)
        return "n/a" if value is None else f"{value:.0f} ms"

    lines.append(
        f"| a moderator's start/stop p99 (max) while 200 students flood switch | {flood(SERVE, 'moderator p99 ms')}"
        f" ({flood(SERVE, 'moderator max ms')}) | {flood(PROD, 'moderator p99 ms')} ({flood(PROD, 'moderator max ms')})"
        " | ≤ 0.2 s |"
    )
    lines.append(
        f"| switch p99 under that flood | {flood(SERVE, 'switch p99 ms')} | {flood(PROD, 'switch p99 ms')} | ≤ 0.5 s |"
    )

    def broken(server: str) -> str:
        f = results.get(server, {}).get("flood")
        if not f:
            return "n/a"
        return (
            f"{f['errors']} errors, {f['deadlocks in server log']} deadlocks, "
            f"{len(f.get('invariant violations', []))} invariant breaks"
        )

    lines.append(f"| errors, deadlocks, invariant breaks under that flood | {broken(SERVE)} | {broken(PROD)} | 0 |")
    compare = results.get(SERVE, {}).get("asgi vs sync")
    lines.append(
        "| the floor view's req/s as `make serve` serves it (ASGI) ÷ the same view under gunicorn sync workers | "
        f"{_ratio(compare)} | | ≥ 0.9 |"
    )
    lines += ["", "Ratios: median of the interleaved rounds (min-max in brackets).", ""]

    for server in (SERVE, PROD):
        part = results.get(server)
        if not part:
            continue
        lines += [
            f"## {server}",
            "",
            "| subject | floor | req/s | ratio (min-max) | p50 ms | p99 ms | p99/p50 | non-2xx |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for row in part["reads"]:
            lines.append(
                f"| {row['subject']} | {row['floor']} | {row['req/s median']} | {_ratio(row)} | {row['p50 ms']} "
                f"| {row['p99 ms']} | {row['p99/p50 median']} (max {row['p99/p50 max']}) | {row['non-2xx']} |"
            )
        if compare and server == SERVE:
            row = compare
            lines.append(
                f"| {row['subject']} | {row['floor']} | {row['req/s median']} | {_ratio(row)} | {row['p50 ms']} "
                f"| {row['p99 ms']} | {row['p99/p50 median']} | {row['non-2xx']} |"
            )
        if "flood" in part:
            lines += ["", "Switch flood: " + ", ".join(f"{k}: {v}" for k, v in part["flood"].items()), ""]
        else:
            lines += ["", "Switch flood: not run on this configuration (`--sqlite-flood-students`).", ""]

    for vendor in ("postgresql", "sqlite"):
        part = results.get(f"lifecycle {vendor}")
        if not part:
            continue
        lines += [f"## Lifecycle on {vendor}", ""]
        for size, figures in part["sizes"].items():
            lines += [
                f"N = {size}: floor (`executemany` of {size} rows) {figures['floor executemany ms median']} ms "
                f"(min/max {figures['floor ms min/max']})",
                "",
                "| operation | ms median | ms p95 | queries | × floor (min-max) |",
                "|---|---|---|---|---|",
            ]
            for label, op in figures["operations"].items():
                lines.append(
                    f"| {label} | {op['ms median']} | {op['ms p95']} | {op['queries']} "
                    f"| {op['x floor median']} ({op['x floor min']}-{op['x floor max']}) |"
                )
            lines.append("")
    for key in ("live SQLite", "live PostgreSQL"):
        if key in results:
            lines += [f"## {key}: waiting clients (bench/bench_live.py)", "", "```", results[key].strip(), "```", ""]
    return "\n".join(lines) + "\n"
