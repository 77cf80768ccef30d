"""Run the benches: ``python -m benches.run [--quick] [--only json,xml,...] [--versions]``.

Every row is checked, then timed against its peers in the same process and
the same run; the ratio is our ops/s over the peer's (above 1: we are
faster). Prints a table per group and writes ``benches/results/<name>.md``
(caveats first, then the tables and the provenance: Python, library versions,
machine, date, commit and the command that reproduces it) and
``benches/results/<name>.png`` (the ratios as bars, log scale, a line at 1).
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import os
import platform
import shlex
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from benches import data
from benches.harness import OURS, Row, Unavailable, measure

__all__ = ["GROUPS", "main"]

GROUPS: dict[str, str] = {
    "json": "benches.bench_json",
    "negotiation": "benches.bench_negotiation",
    "xml": "benches.bench_xml",
    "form": "benches.bench_form",
    "patch": "benches.bench_patch",
    "select": "benches.bench_select",
    "coding": "benches.bench_coding",
    "schema": "benches.bench_schema",
}
"""Group name -> the module whose ``rows()`` builds it, in report order."""

LIBRARIES = (
    "negotiate",
    "orjson",
    "pydantic",
    "pydantic-core",
    "werkzeug",
    "django",
    "djangorestframework",
    "lxml",
    "xmltodict",
    "jsonpatch",
    "jsonpointer",
    "matplotlib",
)

RESULTS = Path(__file__).resolve().parent / "results"

# (repeat, min_time): best of `repeat` timings, each at least `min_time` seconds.
FULL = (7, 0.2)
QUICK = (5, 0.03)


@dataclass
class Result:
    """The outcome of one row: ops/s per side, or why a side failed."""

    row: Row
    ours: float | None = None
    peers: dict[str, float] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)

    def ratio(self, peer: str) -> float | None:
        """Our ops/s over the peer's, when both were measured."""
        theirs = self.peers.get(peer)
        if self.ours is None or theirs is None:
            return None
        return self.ours / theirs


@dataclass
class Group:
    """A group's results, or why it has none."""

    name: str
    results: list[Result] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)
    skipped: str = ""


def _call_and_check(row: Row, name: str, fn: Any) -> str | None:
    try:
        result = fn()
    except Exception as exc:  # a broken row is reported, never fatal to the run
        return f"raised {type(exc).__name__}: {exc}"
    try:
        return row.check(name, result)
    except Exception as exc:
        return f"check raised {type(exc).__name__}: {exc}"


def run_row(row: Row, repeat: int, min_time: float) -> Result:
    """Check every side of a row, time those that are right, check again."""
    result = Result(row)
    sides = {OURS: row.ours, **row.peers}
    for name, fn in sides.items():
        problem = _call_and_check(row, name, fn)
        if problem is not None:
            result.failed[name] = problem
    if OURS in result.failed:
        return result
    timed = {name: fn for name, fn in sides.items() if name not in result.failed}
    try:
        ops = measure(timed, repeat=repeat, min_time=min_time)
    except Exception as exc:  # a side that fails only after many calls
        result.failed[OURS] = f"raised while timed: {type(exc).__name__}: {exc}"
        return result
    # NOTE: checked again after timing: a memo or cache that goes wrong once
    # warm must not hide behind the first, cold answer.
    for name, fn in timed.items():
        problem = _call_and_check(row, name, fn)
        if problem is not None:
            result.failed[name] = problem + " (after timing)"
    mutated = data.mutated_fixtures()
    if mutated:
        result.failed[OURS] = f"a side modified the shared fixture(s) {', '.join(mutated)}"
        data.restore_fixtures()
    if OURS in result.failed:
        return result
    result.ours = ops[OURS]
    result.peers = {
        name: v for name, v in ops.items() if name != OURS and name not in result.failed
    }
    return result


def run_group(name: str, repeat: int, min_time: float) -> Group:
    """Build a group's rows and run them; a missing module skips the group with its reason."""
    group = Group(name)
    try:
        module = importlib.import_module(GROUPS[name])
        group.caveats = list(getattr(module, "CAVEATS", []))
        rows: list[Row] = module.rows()
    except Unavailable as exc:
        group.skipped = str(exc)
        return group
    except Exception as exc:  # report and go on with the other groups
        group.skipped = f"FAILED to build the rows: {type(exc).__name__}: {exc}"
        return group
    for row in rows:
        print(f"  {row.case} ...", end="", flush=True, file=sys.stderr)
        started = time.perf_counter()
        group.results.append(run_row(row, repeat, min_time))
        print(f" {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return group


# -- formatting ---------------------------------------------------------------


def _ops(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.1f}"


def _ratio(value: float | None) -> str:
    if value is None:
        return "FAILED"
    if value >= 10:
        return f"{value:,.0f}×"
    if value >= 0.1:
        return f"{value:.2f}×"
    return f"{value:.2g}×"


def _target(result: Result, peer: str) -> str:
    target = result.row.targets.get(peer)
    if target is None:
        return ""
    ratio = result.ratio(peer)
    verdict = "" if ratio is None else (" met" if ratio >= target else " MISSED")
    return f"≥ {target:g}×{verdict} ({result.row.source})"


def _lines(result: Result) -> list[tuple[str, str, str, str, str, str]]:
    """(case, ours ops/s, peer, peer ops/s, ratio, target) per peer.

    FAILED marks a side whose result was wrong; ``-`` one left untimed because
    the other side failed.
    """
    row = result.row
    ours_failed = OURS in result.failed
    out = []
    for index, peer in enumerate(row.peers):
        peer_failed = peer in result.failed
        theirs = "FAILED" if peer_failed else "-" if ours_failed else _ops(result.peers[peer])
        ratio = "FAILED" if ours_failed or peer_failed else _ratio(result.ratio(peer))
        out.append(
            (
                row.case if index == 0 else "",
                ("FAILED" if ours_failed else _ops(result.ours)) if index == 0 else "",
                peer,
                theirs,
                ratio,
                _target(result, peer),
            )
        )
    return out


def _failures(group: Group) -> list[str]:
    return [
        f"{r.row.case} / {name}: {problem}"
        for r in group.results
        for name, problem in r.failed.items()
    ]


HEADER = ("case", f"{OURS} ops/s", "peer", "peer ops/s", "ratio", "target")


def print_group(group: Group) -> None:
    """The group's table on stdout."""
    print(f"\n== {group.name}")
    if group.skipped:
        print(f"   skipped: {group.skipped}")
        return
    table = [HEADER] + [line for r in group.results for line in _lines(r)]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADER))]
    right = {1, 3, 4}
    for line in table:
        cells = [
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(line)
        ]
        print("   " + "  ".join(cells).rstrip())
    for failure in _failures(group):
        print(f"   FAILED {failure}")


def versions() -> dict[str, str]:
    """Installed version of every library the benches touch."""
    found = {}
    for name in LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _commit() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=data.ROOT,
            check=True,
        ).stdout.strip()
        # NOTE: read-only; the report files themselves do not count as a change.
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", ".", ":!benches/results"],
            capture_output=True,
            text=True,
            cwd=data.ROOT,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" plus uncommitted changes" if dirty else "")


def _load() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def provenance(argv: Sequence[str], load_at_start: float) -> dict[str, str]:
    """What produced the figures: interpreter, libraries, machine, load, date, commit, command."""
    return {
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "Libraries": ", ".join(f"{k} {v}" for k, v in versions().items()),
        "Machine": f"{platform.platform()}; {_cpu()}; {os.cpu_count()} CPUs",
        "Load average": f"{load_at_start:.2f} at start, {_load():.2f} at end (1 min)",
        "Date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "Commit": _commit(),
        "Command": ("python -m benches.run " + shlex.join(argv)).rstrip(),
    }


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown(
    groups: list[Group], info: dict[str, str], quick: bool, timing: tuple[int, float]
) -> str:
    """The report: caveats, one table per group, failures, provenance, how to reproduce."""
    out = ["# negotiate benchmarks", ""]
    if quick:
        out += ["**Quick run** (short timings, for a smoke test): figures are rough.", ""]
    out += [
        "Ratio = negotiate ops/s ÷ peer ops/s, both measured in the same run "
        "(above 1: negotiate is faster). Every side's result is checked before and "
        "after timing; a wrong result shows FAILED instead of a number. Targets are "
        "the issues' (benchmark goals, not tests).",
        "",
        "## Caveats",
        "",
    ]
    for group in groups:
        out += [f"- {c}" for c in group.caveats]
    out += [
        f"- Timing: best of {timing[0]} timings of at least {timing[1]} s each, ours and "
        "the peers interleaved, garbage collector off while timing (as timeit does). "
        "The machine may be shared: look at the load average below.",
        "",
    ]
    for group in groups:
        out += [f"## {group.name}", ""]
        if group.skipped:
            out += [f"Skipped: {group.skipped}", ""]
            continue
        out += [
            "| " + " | ".join(HEADER) + " |",
            "|" + "|".join(["---", "--:", "---", "--:", "--:", "---"]) + "|",
        ]
        for result in group.results:
            for line in _lines(result):
                out.append("| " + " | ".join(_md_cell(c) for c in line) + " |")
        out.append("")
        notes = [f"{r.row.case}: {r.row.note}" for r in group.results if r.row.note]
        out += [f"- {_md_cell(n)}" for n in notes]
        out += [f"- FAILED {_md_cell(f)}" for f in _failures(group)]
        if notes or _failures(group):
            out.append("")
    out += ["## Provenance", ""]
    out += [f"- {key}: {value}" for key, value in info.items()]
    out += [
        "",
        "## Reproducing",
        "",
        "```sh",
        "python -m pip install -e . --group bench",
        info["Command"],
        "```",
        "",
    ]
    return "\n".join(out)


def chart(groups: list[Group], path: Path, title: str) -> None:
    """A horizontal bar per (row, peer) ratio, log scale, a line at 1 and the targets."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter

    bars: list[tuple[str, float, float | None]] = []
    breaks: list[int] = []  # bar indices where a new group starts
    for group in groups:
        if bars:
            breaks.append(len(bars))
        for result in group.results:
            for peer in result.row.peers:
                ratio = result.ratio(peer)
                if ratio is not None:
                    label = f"{group.name}: {result.row.case}  vs {peer}"
                    bars.append((label, ratio, result.row.targets.get(peer)))
    if not bars:
        path.unlink(missing_ok=True)  # no ratio to draw: leave no stale chart behind
        return
    height = 1.9 + 0.3 * len(bars)
    fig, ax = plt.subplots(figsize=(11, height))
    top = len(bars) - 1
    positions = [top - i for i in range(len(bars))]
    colours = [
        "#4c72b0" if target is None else ("#55a868" if ratio >= target else "#c44e52")
        for _, ratio, target in bars
    ]
    ax.barh(positions, [ratio for _, ratio, _ in bars], color=colours, height=0.7)
    ax.set_xscale("log")
    ax.axvline(1.0, color="black", linewidth=1)
    for index in breaks:
        ax.axhline(top - index + 0.5, color="grey", linewidth=0.6, linestyle=":")
    ax.set_yticks(positions, [label for label, _, _ in bars], fontsize=8)
    ax.set_ylim(-0.6, top + 0.6)
    low = min(min(r for _, r, _ in bars), 0.5)
    high = max(max(max(r, t or 0) for _, r, t in bars), 2.0)
    ax.set_xlim(low / 1.6, high * 3)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}×"))
    for pos, (_, ratio, target) in zip(positions, bars, strict=True):
        ax.text(max(ratio, target or 0) * 1.08, pos, _ratio(ratio), va="center", fontsize=7)
        if target is not None:
            ax.plot([target, target], [pos - 0.42, pos + 0.42], color="black", linewidth=2)
    ax.set_xlabel(
        "negotiate ops/s ÷ peer ops/s, same run (log scale; right of 1×: negotiate faster)"
    )
    ax.set_title(title, fontsize=10)
    fig.legend(
        handles=[
            Patch(color="#55a868", label="target met"),
            Patch(color="#c44e52", label="target missed"),
            Patch(color="#4c72b0", label="no target"),
            Line2D([], [], color="black", linewidth=2, label="target (from the issue)"),
        ],
        loc="lower center",
        ncol=4,
        fontsize=8,
        frameon=False,
    )
    ax.grid(axis="x", which="major", alpha=0.25)
    fig.tight_layout(rect=(0, 0.4 / height, 1, 1))  # room for the legend below
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, run the groups, print and write the report."""
    parser = argparse.ArgumentParser(prog="python -m benches.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short timings (a smoke run)")
    parser.add_argument("--only", default="", help="comma-separated groups: " + ",".join(GROUPS))
    parser.add_argument("--versions", action="store_true", help="print versions and exit")
    parser.add_argument("--name", default="latest", help="report file name (default: latest)")
    args = parser.parse_args(argv)
    argv = list(sys.argv[1:] if argv is None else argv)
    if args.versions:
        info = provenance(argv, _load())
        for key in ("Python", "Machine"):
            print(f"{key}: {info[key]}")
        for name, version in versions().items():
            print(f"{name}: {version}")
        return 0
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(GROUPS)
    unknown = [n for n in names if n not in GROUPS]
    if unknown:
        parser.error(f"unknown group(s) {', '.join(unknown)}; known: {', '.join(GROUPS)}")
    repeat, min_time = QUICK if args.quick else FULL
    load = _load()
    groups = []
    for name in names:
        print(f"[{name}]", file=sys.stderr)
        group = run_group(name, repeat, min_time)
        print_group(group)
        groups.append(group)
    info = provenance(argv, load)
    RESULTS.mkdir(parents=True, exist_ok=True)
    md_path = RESULTS / f"{args.name}.md"
    md_path.write_text(markdown(groups, info, args.quick, (repeat, min_time)), encoding="utf-8")
    title = (
        f"negotiate vs peers, same run - Python {platform.python_version()}, "
        f"{info['Date'][:10]}{' (quick run: rough)' if args.quick else ''}"
    )
    chart(groups, RESULTS / f"{args.name}.png", title)
    print(f"\nwrote {md_path.relative_to(data.ROOT)} and {args.name}.png")
    failed = any(g.skipped.startswith("FAILED") or _failures(g) for g in groups)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
