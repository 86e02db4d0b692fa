"""Combine several full runs into one report: every target as measured in each run, and what all runs agree on.

``python -m bench.combine run1/latest.json run2/latest.json run3/latest.json [--readme README.md]`` writes
``combined.json``, ``combined.md`` and ``combined.png`` next to the first file's parent (or ``--output-dir``). A
target is *met* only when every run met it, *missed* when every run missed it, and *mixed (k/n)* otherwise: the
text may claim only what all runs agree on. Case rows pool every round of every run (median, min-max) and list the
median of each run, so the spread between runs shows next to the spread within them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bench.checks import Check, checks
from bench.report import _fmt, _scale_table, chart, update_readme

_AGREED = {True: "met", False: "**missed**", None: "-"}


def agreement(passed: list[bool | None]) -> str:
    """Say what the runs agree on.

    >>> agreement([True, True, True]), agreement([False, False]), agreement([True, False, True]), agreement([None])
    ('met', '**missed**', 'mixed (2/3 met)', '-')
    """
    known = [value for value in passed if value is not None]
    if not known:
        return "-"
    if len(set(known)) == 1:
        return _AGREED[known[0]]
    return f"mixed ({sum(known)}/{len(known)} met)"


def pooled(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Return one result whose cases hold every round of every run (summaries recomputed over all rounds)."""
    from bench.run import summarise

    cases: dict[str, Any] = {}
    for run in runs:
        for name, case in run["cases"].items():
            entry = cases.setdefault(name, {"family": case["family"], "title": case["title"], "runs": []})
            entry["runs"] += case["runs"]
    for entry in cases.values():
        entry["summary"] = summarise(entry["runs"])
    environment = dict(runs[0]["environment"])
    environment["date"] = f"{runs[0]['environment']['date']} to {runs[-1]['environment']['date']}, {len(runs)} runs"
    return {"environment": environment, "cases": cases}


def markdown(runs: list[dict[str, Any]], combined: dict[str, Any]) -> str:
    """Return the combined Markdown: the targets per run with their agreement, then the pooled case table."""
    env = runs[0]["environment"]
    count = len(runs)
    lines = [
        f"### Benchmark results: {count} full runs",
        "",
        f"{combined['environment']['date']}; Kubernetes {env['kubernetes']} (local control plane); {env['nproc']} "
        f"CPUs; Python {env['python']}. {env['objects']:,} ConfigMaps, {env['repeats']} rounds per case per run, "
        "each run with its own control plane and fixture. A target is met only when every run met it.",
        "",
        "| family | target | " + " | ".join(f"run {index + 1}" for index in range(count)) + " | goal | all runs |",
        "|---|---|" + "---|" * count + "---|---|",
    ]
    per_run = [checks(run["cases"]) for run in runs]
    for index, first in enumerate(per_run[0]):
        row: list[Check] = [run_checks[index] for run_checks in per_run]
        values = " | ".join(_fmt(check.value, check.unit) for check in row)
        status = agreement([check.passed for check in row])
        lines.append(f"| {first.family} | {first.what} | {values} | {first.goal} | {status} |")
    lines += [
        "",
        "| case | what | median s (all rounds) | min-max s | median of each run | CPU s | runs ok |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, case in combined["cases"].items():
        spent = case["summary"].get("seconds")
        if spent is None:
            continue
        each = ", ".join(
            _fmt(run["cases"][name]["summary"]["seconds"]["median"])
            if "seconds" in run["cases"].get(name, {}).get("summary", {})
            else "n/a"
            for run in runs
        )
        ok = sum(1 for run in case["runs"] if run.get("ok"))
        cpu = case["summary"].get("cpu_seconds", {}).get("median")
        lines.append(
            f"| {name} | {case['title']} | {_fmt(spent['median'])} | {spent['min']:.3g}-{spent['max']:.3g} | "
            f"{each} | {_fmt(cpu)} | {ok}/{len(case['runs'])} |"
        )
    return "\n".join(lines) + "\n"


def scale_section(scale: dict[str, Any]) -> str:
    """Return the Markdown of a scale series run (one run, its own plane): its targets and its cases per size."""
    env = scale["environment"]
    lines = ["", f"### Scale series: one run, {env['date']}", "", "| family | target | measured | goal | status |"]
    lines.append("|---|---|---|---|---|")
    for check in checks(scale["cases"]):
        if check.family == "scale":
            status = {True: "met", False: "**missed**", None: "-"}[check.passed]
            lines.append(
                f"| {check.family} | {check.what} | {_fmt(check.value, check.unit)} | {check.goal} | {status} |"
            )
    return "\n".join([*lines, "", *_scale_table(scale["cases"])]) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Combine the given result files; write the report (and the README block)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", nargs="+", type=Path, help="latest.json of each run")
    parser.add_argument("--output-dir", type=Path, help="where to write combined.* (default: beside the first run)")
    parser.add_argument("--readme", type=Path, help="also refresh the Benchmarks block of this README")
    parser.add_argument(
        "--scale", type=Path, help="a scale series' latest.json: its rows below, its curve in the chart"
    )
    args = parser.parse_args(argv)
    runs = [json.loads(path.read_text()) for path in args.results]
    combined = pooled(runs)
    directory = args.output_dir or args.results[0].resolve().parent.parent
    directory.mkdir(parents=True, exist_ok=True)
    table = markdown(runs, combined)
    if args.scale is not None:
        scale = json.loads(args.scale.read_text())
        table += scale_section(scale)
        combined["cases"].update(scale["cases"])  # the chart's third panel: cost per object against size
    (directory / "combined.json").write_text(json.dumps({"runs": [str(p) for p in args.results]} | combined) + "\n")
    (directory / "combined.md").write_text(table)
    chart(combined, directory / "combined.png")
    if args.readme is not None:
        update_readme(args.readme, table)
    print(f"bench: wrote {directory}/combined.{{json,md,png}}" + (f" and {args.readme}" if args.readme else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["agreement", "markdown", "pooled", "scale_section"]
