"""`clearance-faults`: the fault suite against the local `faults` stack (issue 17).

    uv run clearance-faults --scenario kill-ooc-issuer --count 1000
    uv run clearance-faults --scenario all              # every scenario, 10,000 BEs each
    uv run clearance-faults --list
    uv run clearance-faults --summary faults-results/<time>/results.json
    uv run clearance-faults --scenario hostile-input --count 2000   # hostile records

Each scenario runs on a freshly reset `faults` stack (.data/faults/): the benchmark's
day in one burst, the fault once a fifth of the BEs are terminal, then the invariants
(`invariants.py`) and the time from the fault's end to a drained pipeline. `hostile-input`
is the day's good BEs (`--good`, 300) with `--count` hostile records (100,000) published
from the first filing on (`hostile.py`), each record accounted for once drained. Writes
`faults-results/<time>/results.json` and prints the table; `--summary` (with a results
file, or after a run) writes the table into FAULTS.md and `faults-summary.json`.
The exit code is 0 when every scenario drained and every invariant held.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from clearance_local.config import repo_root
from clearance_local.process import StackError

from clearance_bench import faults, hostile
from clearance_bench.benchmark import Plan
from clearance_bench.report import machine

SUMMARY_BEGIN = "<!-- faults-summary:begin -->"
SUMMARY_END = "<!-- faults-summary:end -->"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clearance-faults", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--scenario", default="all", help="scenario names, comma-separated (--list), or 'all'"
    )
    parser.add_argument(
        "--profile", default=faults.PROFILE, help="the stack's profile (default faults)"
    )
    parser.add_argument(
        "--count",
        type=int,
        help="BEs per scenario (10000); for hostile-input, hostile records (100000)",
    )
    parser.add_argument(
        "--good", type=int, default=300, help="good BEs beside the hostile input (300)"
    )
    parser.add_argument(
        "--no-nul-bytes",
        dest="nul_bytes",
        action="store_false",
        help="hostile input without NUL bytes in keys, headers and strings (see FAULTS.md)",
    )
    parser.add_argument("--seed", type=int, default=42, help="workload seed (default 42)")
    parser.add_argument(
        "--strike-at", type=float, default=0.2, help="share of BEs terminal when it strikes"
    )
    parser.add_argument("--out", type=Path, help="output folder (faults-results/<time>/)")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument(
        "--summary",
        nargs="?",
        const="",
        metavar="RESULTS[,RESULTS]",
        help="write the table into FAULTS.md and faults-summary.json (from the results files "
        "given, their scenarios in order, or from this run)",
    )
    parser.add_argument("--note", default="", help="a line written with the summary")
    parser.add_argument("--down", action="store_true", help="stop the faults stack afterwards")
    return parser


def _input_summary(report: dict[str, Any]) -> dict[str, Any]:
    """The hostile input's counts (not its lists of record ids)."""
    keep = ("count", "seed", "published", "refused", "publish_s", "by_kind", "by_topic")
    more = ("dead_letter_kinds", "rules_cited", "unexpected", "health")
    return {k: report[k] for k in (*keep, *more) if k in report}


#: faults-summary.json's fields that come from a scenario's invariants.
_INVARIANT_FIELDS = (
    "violation_counts",
    "terminal_kinds",
    "resent",
    "dead_letters",
    "duty_demands",
    "gatepasses",
)


def _summary_row(s: dict[str, Any]) -> dict[str, Any]:
    invariants = s["invariants"]
    row = {k: v for k, v in s.items() if k != "invariants"}
    row |= {"invariants_hold": invariants.get("holds")}
    row |= {name: invariants.get(name) for name in _INVARIANT_FIELDS}
    if "input" in invariants:
        row["hostile_input"] = _input_summary(invariants["input"])
    return row


def earlier_scenarios(root: Path) -> list[dict[str, Any]]:
    """The scenarios of the committed faults-summary.json as results' scenarios, each with
    the run it came from (`generated`, `note`): a run of some scenarios replaces their rows
    and keeps the others'."""
    path = root / "faults-summary.json"
    if not path.exists():
        return []
    summary = json.loads(path.read_text())
    rows = []
    for s in summary["scenarios"]:
        invariants = {"holds": s.get("invariants_hold")}
        invariants |= {name: s.get(name) for name in _INVARIANT_FIELDS}
        if "hostile_input" in s:
            invariants["input"] = s["hostile_input"]
        kept = {k: v for k, v in s.items() if k not in (*_INVARIANT_FIELDS, "invariants_hold")}
        kept.pop("hostile_input", None)
        rows.append(
            kept
            | {
                "invariants": invariants,
                "generated": s.get("generated", summary.get("generated", "")),
                "note": s.get("note", summary.get("note", "")),
            }
        )
    return rows


def merged_scenarios(
    earlier: list[dict[str, Any]], fresh: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """`earlier` in its order with each scenario `fresh` has replaced, then the new ones."""
    by_name = {s["scenario"]: s for s in fresh}
    merged = [by_name.pop(s["scenario"], s) for s in earlier]
    return merged + [s for s in fresh if s["scenario"] in by_name]


def _provenance(scenarios: list[dict[str, Any]]) -> str:
    """One line per run the table's rows come from."""
    runs: dict[tuple[str, str], list[str]] = {}
    for s in scenarios:
        runs.setdefault((s.get("generated", ""), s.get("note", "")), []).append(s["scenario"])
    lines = []
    for (generated, note), names in runs.items():
        which = ", ".join(names) if len(names) <= 3 else f"{len(names)} scenarios"
        lines.append(
            f"Generated {generated} by `bin/clearance faults --summary` ({which})"
            + (f"; {note}" if note else "")
            + "."
        )
    return "\n\n".join(lines)


def _replace_block(text: str, begin: str, end: str, block: str) -> str:
    head, rest = text.split(begin, 1)
    tail = rest.split(end, 1)[1]
    return head + "\n".join([begin, block, end]) + tail


def write_summary(results: dict[str, Any], root: Path, note: str = "") -> list[Path]:
    """The table into FAULTS.md between its markers (the rows of scenarios not in
    `results` kept from faults-summary.json), the hostile input's figures between theirs,
    and the summary as JSON."""
    stamp = {"generated": results["generated"], "note": note or results.get("note", "")}
    fresh = [{**s, **{k: s.get(k) or v for k, v in stamp.items()}} for s in results["scenarios"]]
    scenarios = merged_scenarios(earlier_scenarios(root), fresh)
    summary = {
        "generated": results["generated"],
        "machine": results["machine"],
        "note": stamp["note"],
        "scenarios": [_summary_row(s) for s in scenarios],
    }
    summary_path = root / "faults-summary.json"
    summary_path.write_text(json.dumps(summary, indent=2) + "\n")
    doc = root / "FAULTS.md"
    text = doc.read_text() if doc.exists() else f"# Faults\n\n{SUMMARY_BEGIN}\n{SUMMARY_END}\n"
    table = faults.format_table(scenarios, markdown=True)
    text = _replace_block(text, SUMMARY_BEGIN, SUMMARY_END, f"{_provenance(scenarios)}\n\n{table}")
    hostile_runs = [s for s in fresh if "input" in s["invariants"]]
    if hostile_runs and hostile.FIGURES_BEGIN in text:
        run = hostile_runs[-1]
        figures = hostile.figures(run, run.get("generated", ""), run.get("note", ""))
        text = _replace_block(text, hostile.FIGURES_BEGIN, hostile.FIGURES_END, figures)
    doc.write_text(text)
    return [doc, summary_path]


def scenario_names() -> list[str]:
    """Every scenario `all` runs: the faults, then the hostile input."""
    return [*faults.SCENARIOS, hostile.NAME]


def scenario_and_plan(name: str, args: argparse.Namespace) -> tuple[faults.Scenario, Plan]:
    """The scenario called `name` and the day it runs under (`--count` BEs, or for the
    hostile input `--good` BEs beside `--count` hostile records)."""
    if name == hostile.NAME:
        count = args.count or hostile.DEFAULT_COUNT
        scenario = hostile.scenario(count, args.seed, nul_bytes=getattr(args, "nul_bytes", True))
        return scenario, Plan("burst", args.good, args.seed, baseline=False)
    return faults.SCENARIOS[name], Plan("burst", args.count or 10_000, args.seed, baseline=False)


def run(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    """Every scenario asked for; results.json is rewritten after each one."""
    names = scenario_names() if args.scenario == "all" else args.scenario.split(",")
    results: dict[str, Any] = {
        "generated": out.name,
        "machine": machine(),
        "config": {
            "count": args.count,
            "good": args.good,
            "nul_bytes": args.nul_bytes,
            "seed": args.seed,
            "strike_at": args.strike_at,
            "profile": args.profile,
        },
        "scenarios": [],
    }
    out.mkdir(parents=True, exist_ok=True)
    try:
        for name in names:
            scenario, plan = scenario_and_plan(name, args)
            print(f"== {name}: {scenario.description}, {plan.count:,} BEs")
            result = faults.run_on_fresh_stack(
                scenario, plan, profile=args.profile, strike_at=args.strike_at
            )
            results["scenarios"].append(result.to_json())
            (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
            print(faults.format_table([result.to_json()]))
            if "input" in result.verdict:
                print(hostile.format_outcomes(result.verdict["input"]))
    finally:
        if args.down:
            faults.fault_stack(args.profile).down()
    return results


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    root = repo_root()
    if args.list:
        for scenario in faults.SCENARIOS.values():
            print(f"{scenario.name:<22} {scenario.description}")
        print(f"{hostile.NAME:<22} hostile records on every topic outside parties write")
        return 0
    if args.summary:  # from earlier runs' results
        files = [json.loads(Path(name).read_text()) for name in args.summary.split(",")]
        results = {
            **files[0],
            "generated": max(f["generated"] for f in files),
            "scenarios": [s for f in files for s in f["scenarios"]],
        }
        print(faults.format_table(results["scenarios"]))
        for path in write_summary(results, root, args.note):
            print(f"written: {path}")
        return 0
    unknown = [n for n in args.scenario.split(",") if n not in scenario_names()]
    if args.scenario != "all" and unknown:
        print(f"unknown scenario {', '.join(unknown)}; --list shows them", file=sys.stderr)
        return 2
    out = args.out or root / "faults-results" / faults.stamp()
    try:
        results = run(args, out)
    except StackError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print()
    print(faults.format_table(results["scenarios"]))
    print(f"\nresults: {out / 'results.json'}")
    if args.summary is not None:
        for path in write_summary(results, root, args.note):
            print(f"written: {path}")
    ok = all(s["passed"] for s in results["scenarios"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
