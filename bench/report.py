"""Turn the runner's results into the target checks, ``latest.json``, a Markdown table and a PNG chart.

``python -m bench.report [results.json]`` redraws the table and chart from saved results.
"""

from __future__ import annotations

import json
import math
import re
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.checks import Check, checks
from bench.peers import peer

RESULTS_DIR = Path(__file__).resolve().parent / "results"
README_BEGIN = "<!-- bench:begin -->"
README_END = "<!-- bench:end -->"


def _fmt(value: float | None, unit: str = "") -> str:
    """Format a figure for the table.

    >>> _fmt(1234567.0, "/s"), _fmt(0.01234, "x"), _fmt(None)
    ('1,234,567/s', '0.0123x', 'n/a')
    """
    if value is None or math.isnan(value):
        return "n/a"
    if abs(value) >= 1000:
        return f"{value:,.0f}{unit}"
    return f"{value:.3g}{unit}"


_DETAILED = ("P2", "P3", "P4", "P5", "P6", "P7", "P8")
_STATUS = {True: "met", False: "**missed**", None: "-"}


def markdown(results: dict[str, Any]) -> str:
    """Return the Markdown report: header, target checks, then every case's medians and ranges."""
    env = results["environment"]
    label = "QUICK RUN (preliminary: small fixture, few rounds)" if env["quick"] else "full run"
    versions = ", ".join(f"{name} {version}" for name, version in env["versions"].items())
    lines = [
        f"### Benchmark results: {label}",
        "",
        f"{env['date']}; Kubernetes {env['kubernetes']} (local control plane); {env['nproc']} CPUs, "
        f"{env['memory_gib']} GiB; Python {env['python']}. {env['objects']:,} ConfigMaps "
        f"({env['json_bytes'] / env['objects']:,.0f} JSON bytes each), {env['repeats']} rounds per case in fresh "
        f"processes, alternating order; P3 writer {env['watch']['rate']:g}/s for {env['watch']['seconds']:g} s.",
        f"Versions: {versions}.",
        "",
        "| family | target | measured | goal | status |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {c.family} | {c.what} | {_fmt(c.value, c.unit)} | {c.goal} | {_STATUS[c.passed]} |"
        for c in (Check(**row) for row in results["checks"])
    ]
    lines += ["", "| case | what | median s | min-max s | CPU s | traced held / JSON byte | peak RSS MiB | runs |"]
    lines.append("|---|---|---|---|---|---|---|---|")
    for name, case in results["cases"].items():
        summary = case["summary"]
        spent = summary.get("seconds", {})
        failures = sum(1 for run in case["runs"] if not run.get("ok"))
        runs = f"{len(case['runs']) - failures}/{len(case['runs'])}"
        wall = f"{spent['min']:.3g}-{spent['max']:.3g}" if spent else "n/a"
        rss = summary.get("peak_rss_bytes", {}).get("median")
        lines.append(
            f"| {name} | {case['title']} | {_fmt(spent.get('median'))} | {wall} | "
            f"{_fmt(summary.get('cpu_seconds', {}).get('median'))} | "
            f"{_fmt(summary.get('traced_held_per_json_byte', {}).get('median'), 'x')} | "
            f"{_fmt(None if rss is None else rss / 2**20)} | {runs} |"
        )
    lines += _scale_table(results["cases"])
    lines += ["", "Details (medians):", ""]
    for name, case in results["cases"].items():
        if case["family"] in _DETAILED and case["summary"]:
            figures = ", ".join(f"{metric} {_fmt(row['median'])}" for metric, row in case["summary"].items())
            lines.append(f"- `{name}`: {figures}")
    errors = [
        (name, run["error"]) for name, case in results["cases"].items() for run in case["runs"] if not run.get("ok")
    ]
    if errors:
        lines += ["", "Failures:", ""] + [f"- `{name}`: {error}" for name, error in dict(errors).items()]
    return "\n".join(lines) + "\n"


def _scale_table(cases: dict[str, Any]) -> list[str]:
    """Return the scale series' rows (none when it did not run): time, cost per object, memory per JSON byte."""
    rows = [(name, case) for name, case in cases.items() if case["family"] == "scale"]
    if not rows:
        return []
    lines = [
        "",
        "| scale case | objects | median s | us per object | CPU s | peak RSS MiB | RSS growth / JSON byte |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, case in rows:
        summary = case["summary"]
        if "seconds" not in summary:
            error = next((run.get("error", "") for run in case["runs"] if not run.get("ok")), "")
            lines.append(f"| {name} | | did not finish | | | | {error[:80]} |")
            continue
        objects, spent = summary["objects"]["median"], summary["seconds"]["median"]
        rss = summary.get("peak_rss_bytes", {}).get("median")
        lines.append(
            f"| {name} | {objects:,.0f} | {_fmt(spent)} | {_fmt(spent / objects * 1e6)} | "
            f"{_fmt(summary.get('cpu_seconds', {}).get('median'))} | {_fmt(None if rss is None else rss / 2**20)} | "
            f"{_fmt(summary.get('rss_growth_per_json_byte', {}).get('median'), 'x')} |"
        )
    return lines


def chart(results: dict[str, Any], path: Path) -> None:
    """Draw list and informer times (median, min-max) and memory per JSON byte, side by side, into ``path``."""
    peer("matplotlib").use("Agg")
    plt = peer("matplotlib.pyplot")

    cases = results["cases"]
    timed = [
        (name, case["summary"]["seconds"])
        for name, case in cases.items()
        if case["family"] in ("P1", "P2", "P7") and "seconds" in case["summary"]
    ]
    memory = [
        (name, case["summary"]["traced_held_per_json_byte"])
        for name, case in cases.items()
        if "traced_held_per_json_byte" in case["summary"]
    ]
    scale = _scale_curves(cases)
    height = 0.45 * max(len(timed), len(memory), 4) + 1.6
    figure, axes = plt.subplots(1, 3 if scale else 2, figsize=(19 if scale else 13, height))
    left, right = axes[0], axes[1]
    if scale:
        _draw_scale(axes[2], scale)
    for axis, rows, xlabel in (
        (left, timed, "seconds (median, min-max)"),
        (right, memory, "traced bytes held per JSON byte"),
    ):
        names = [name for name, _ in rows][::-1]
        medians = [row["median"] for _, row in rows][::-1]
        low = [row["median"] - row["min"] for _, row in rows][::-1]
        high = [row["max"] - row["median"] for _, row in rows][::-1]
        colours = ["tab:blue" if "dynaclient" in name else "tab:gray" for name in names]
        axis.barh(names, medians, xerr=[low, high], color=colours, capsize=3)
        axis.set_xlabel(xlabel)
        axis.grid(axis="x", alpha=0.3)
    left.set_xscale("log")  # kr8s and kubectl take ten times longer than the rest
    left.set_xlabel("seconds (median, min-max; log scale)")
    right.axvline(2.5, color="tab:red", linestyle="--", linewidth=1, label="P4 target 2.5x")
    right.axvline(1.5, color="tab:orange", linestyle="--", linewidth=1, label="P4 stripped target 1.5x")
    right.legend(loc="lower right", fontsize=8)
    env = results["environment"]
    kind = "QUICK (preliminary)" if env["quick"] else "full run"
    figure.suptitle(
        f"dynaclient benchmarks, {kind}: {env['objects']:,} ConfigMaps, Kubernetes {env['kubernetes']}, "
        f"{env['nproc']} CPUs, {env['date']}",
        fontsize=10,
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _scale_curves(cases: dict[str, Any]) -> dict[str, list[tuple[float, float]]]:
    """Return, per scale client (full-size objects only), its (objects, microseconds per object) points."""
    curves: dict[str, list[tuple[float, float]]] = {}
    for name, case in cases.items():
        summary = case["summary"]
        if case["family"] != "scale" or name.endswith("-small") or "seconds" not in summary:
            continue
        client = name.removeprefix("scale-").rsplit("-", 1)[0]
        objects = summary["objects"]["median"]
        curves.setdefault(client, []).append((objects, summary["seconds"]["median"] / objects * 1e6))
    return {client: sorted(points) for client, points in curves.items()}


def _draw_scale(axis: Any, curves: dict[str, list[tuple[float, float]]]) -> None:
    for client, points in sorted(curves.items()):
        style = "-" if client.startswith("dynaclient") else "--"
        axis.plot(*zip(*points, strict=True), style, marker="o", label=client)
    axis.set_xscale("log")
    axis.set_xlabel("ConfigMaps (log scale)")
    axis.set_ylabel("microseconds per object (flat: linear cost)")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)


def update_readme(readme: Path, table: str) -> None:
    """Replace the text between the bench markers of ``readme`` with ``table``.

    Raises:
        ValueError: the README has no ``<!-- bench:begin -->`` / ``<!-- bench:end -->`` pair.
    """
    text = readme.read_text()
    pattern = re.compile(re.escape(README_BEGIN) + r".*?" + re.escape(README_END), re.DOTALL)
    if not pattern.search(text):
        raise ValueError(f"{readme}: no {README_BEGIN} ... {README_END} block to refresh")
    readme.write_text(pattern.sub(lambda _: f"{README_BEGIN}\n{table}{README_END}", text))


def write_report(results: dict[str, Any], directory: Path, *, readme: Path | None = None) -> list[Path]:
    """Add the checks to ``results`` and write ``latest.json``, ``latest.md`` and ``latest.png``; return the paths."""
    results["checks"] = [asdict(check) for check in checks(results["cases"])]
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / "latest.json", directory / "latest.md", directory / "latest.png"]
    paths[0].write_text(json.dumps(results, indent=1) + "\n")
    table = markdown(results)
    paths[1].write_text(table)
    chart(results, paths[2])
    if readme is not None:
        update_readme(readme, table)
        paths.append(readme)
    return paths


if __name__ == "__main__":
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else RESULTS_DIR / "latest.json"
    print(", ".join(map(str, write_report(json.loads(source.read_text()), source.parent))))
