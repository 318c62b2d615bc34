"""From measurements to numbers: the table, `results.json`, `bes.csv` and `timeline.png`."""

from __future__ import annotations

import csv
import json
import os
import platform
import subprocess
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import psutil

from clearance_bench.load import Measurement
from clearance_bench.stats import LatencySummary, per_second, percentile, summarize

# The issue's targets: reported against, never asserted.
TARGET_BURST_RATE = 500.0  # BE/s: a 10,000-BE national day drained in under 20 s
TARGET_NATIONAL_DAY_S = 20.0
NATIONAL_DAY = 10_000
TARGET_STEADY_P99_MS = 250.0
TARGET_BASELINE_RATIO = 0.5
TARGET_RSS_MB = 150.0
# Issue 18: a third of the CPU per BE, the burst at 0.15 of the bare relay.
TARGET_CPU_MS_PER_BE = 3.5
TARGET_ISSUE_18_RATIO = 0.15
LOAD_GENERATOR = "bench-driver"

SERVICES = ("be-intake", "bis-verifier", "rms-router", "warehouse-seal", "ooc-issuer")


def machine() -> dict[str, Any]:
    """What the numbers were measured on, including how busy it was at the start."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load1, load5, load15 = os.getloadavg()
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "load_average_at_start": [round(load1, 2), round(load5, 2), round(load15, 2)],
        "kernel": platform.release(),
        "python": platform.python_version(),
        "commit": _commit(),
    }


def _commit() -> str:
    """The code measured: the checkout's commit, `+` when it has uncommitted changes."""
    root = str(Path(__file__).resolve().parents[3])

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "-C", root, *args], capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    try:
        head = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+" if dirty else "")


def _latency(summary: LatencySummary | None) -> dict[str, float] | None:
    return summary.as_dict() if summary else None


def summarize_run(m: Measurement) -> dict[str, Any]:
    """Latency, throughput, drain time, resources and timeline of one measured run."""
    t0 = m.started_at
    index = {key: i for i, key in enumerate(m.keys)}
    latencies, broker_latencies, completions = [], [], []
    kinds: Counter[str] = Counter()
    by_second: dict[int, list[float]] = {}
    for key, arrival in m.arrivals.items():
        submitted = m.submitted_at[index[key]]
        latency_ms = (arrival.received_at - submitted) * 1000
        latencies.append(latency_ms)
        broker_latencies.append(arrival.broker_timestamp_ms - m.wall(submitted) * 1000)
        completions.append(arrival.received_at - t0)
        by_second.setdefault(int(arrival.received_at - t0), []).append(latency_ms)
        kinds[arrival.kind] += 1
    last = max((a.received_at for a in m.arrivals.values()), default=m.finished_at)
    drain_s = max(last - t0, 1e-9)
    publish_s = max(m.published_at - t0, 1e-9)
    acks = [
        (acked - sent) * 1000 for sent, acked in zip(m.sent_at, m.acked_at, strict=True) if acked
    ]
    lateness = [(sent - due) * 1000 for due, sent in zip(m.submitted_at, m.sent_at, strict=True)]
    completed_per_s = per_second(completions)
    seconds = len(completed_per_s)
    summary: dict[str, Any] = {
        "mode": m.schedule.mode,
        "offered_rate_be_s": m.schedule.rate,
        "sent": len(m.keys),
        "terminal": len(m.arrivals),
        "missing": m.missing,
        "duplicates": m.duplicates,
        "timed_out": m.timed_out,
        "terminal_kinds": dict(sorted(kinds.items())),
        "latency_ms": _latency(summarize(latencies)),
        "latency_broker_timestamp_ms": _latency(summarize(broker_latencies)),
        "publish_ack_ms": _latency(summarize(acks)),
        "throughput_be_s": round(len(m.arrivals) / drain_s, 1),
        "peak_1s_throughput_be_s": max(completed_per_s, default=0),
        "drain_time_s": round(drain_s, 3),
        "publish_time_s": round(publish_s, 3),
        "publish_rate_be_s": round(len(m.keys) / publish_s, 1),
        "generator_lateness_ms": {
            "p99": round(percentile(lateness, 99), 3) if lateness else 0.0,
            "max": round(max(lateness, default=0.0), 3),
        },
        "payload_bytes": {
            "mean": round(sum(m.payload_bytes) / max(len(m.payload_bytes), 1), 1),
            "max": max(m.payload_bytes, default=0),
            "total": sum(m.payload_bytes),
        },
        "per_second": {
            "submitted": per_second((t - t0 for t in m.submitted_at), seconds),
            "completed": completed_per_s,
            "latency_p50_ms": [
                round(percentile(by_second[s], 50), 1) if s in by_second else None
                for s in range(seconds)
            ],
            "latency_p99_ms": [
                round(percentile(by_second[s], 99), 1) if s in by_second else None
                for s in range(seconds)
            ],
        },
        "resources": _resources(m),
        "cpu_ms_per_be": _cpu_per_be(_resources(m), m.finished_at - m.started_at, len(m.arrivals)),
        "timeline": [
            {
                "t_s": round(s.at - t0, 2),
                "cpu_percent": s.cpu_percent,
                "rss_mb": s.rss_mb,
                "consumer_lag": s.consumer_lag,
                "outbox_backlog": s.outbox_backlog,
                "events_handled": s.events_handled,
            }
            for s in m.samples
        ],
        "notes": m.notes,
    }
    return summary


def _resources(m: Measurement) -> dict[str, dict[str, float]]:
    """CPU average and maximum while the load ran (100 = one core), peak RSS over the run."""
    names = sorted({name for s in m.samples for name in s.rss_mb})
    during = [s for s in m.samples if m.started_at <= s.at <= m.finished_at] or m.samples
    result = {}
    for name in names:
        cpu = [s.cpu_percent[name] for s in during if name in s.cpu_percent]
        rss = [s.rss_mb[name] for s in m.samples if name in s.rss_mb]
        result[name] = {
            "cpu_avg_percent": round(sum(cpu) / len(cpu), 1) if cpu else 0.0,
            "cpu_max_percent": round(max(cpu, default=0.0), 1),
            "rss_peak_mb": round(max(rss, default=0.0), 1),
        }
    return result


def _cpu_per_be(
    resources: Mapping[str, Mapping[str, float]], seconds: float, count: int
) -> dict[str, float]:
    """CPU milliseconds per terminal BE while the load ran, per process and over all the
    pipeline's processes (`all`: services, Kafka, PostgreSQL, the registry; the load
    generator is left out, as it is no part of the pipeline)."""
    per = {
        name: round(r["cpu_avg_percent"] / 100 * seconds * 1000 / max(count, 1), 2)
        for name, r in resources.items()
    }
    per["all"] = round(sum(v for name, v in per.items() if name != LOAD_GENERATOR), 2)
    return per


def _target(
    name: str, target: str, measured: Any, passed: bool | None, note: str = ""
) -> dict[str, Any]:
    return {"name": name, "target": target, "measured": measured, "passed": passed, "note": note}


def evaluate_targets(
    pipeline: Mapping[str, Any], baseline: Mapping[str, Any] | None, ratio: float | None
) -> list[dict[str, Any]]:
    """The issue's four targets, each passed, failed or not applicable (None) to this run."""
    mode, sent = pipeline["mode"], pipeline["sent"]
    complete = pipeline["missing"] == 0
    targets = []
    if mode == "burst":
        rate = pipeline["throughput_be_s"]
        targets.append(
            _target(
                "burst throughput",
                f">= {TARGET_BURST_RATE:.0f} BE/s",
                rate,
                complete and rate >= TARGET_BURST_RATE,
            )
        )
        drain = pipeline["drain_time_s"]
        day = sent >= NATIONAL_DAY
        targets.append(
            _target(
                "national day drained",
                f"< {TARGET_NATIONAL_DAY_S:.0f} s for {NATIONAL_DAY:,} BEs",
                drain,
                (complete and drain < TARGET_NATIONAL_DAY_S) if day else None,
                "" if day else f"only {sent:,} BEs in this run",
            )
        )
    else:
        p99 = (pipeline["latency_ms"] or {}).get("p99")
        rate = pipeline["offered_rate_be_s"]
        targets.append(
            _target(
                "steady p99 latency",
                f"<= {TARGET_STEADY_P99_MS:.0f} ms at 100 BE/s",
                p99,
                complete and p99 is not None and p99 <= TARGET_STEADY_P99_MS,
                "" if rate == 100 else f"offered {rate:g} BE/s, not 100",
            )
        )
    if baseline is None:
        ratio_passed, ratio_note = None, "baseline not run"
    elif ratio is None:
        ratio_passed, ratio_note = False, "baseline incomplete"
    elif mode == "steady":
        ratio_passed, ratio_note = None, "steady: both runs are held to the offered rate"
    else:
        ratio_passed, ratio_note = complete and ratio >= TARGET_BASELINE_RATIO, ""
    targets.append(
        _target(
            "throughput vs bare relay",
            f">= {TARGET_BASELINE_RATIO:.0%} of baseline (burst)",
            round(ratio, 3) if ratio is not None else None,
            ratio_passed,
            ratio_note,
        )
    )
    if mode == "burst":
        cpu = pipeline["cpu_ms_per_be"]["all"]
        targets.append(
            _target(
                "CPU per BE, all processes",
                f"<= {TARGET_CPU_MS_PER_BE} ms",
                cpu,
                complete and cpu <= TARGET_CPU_MS_PER_BE,
            )
        )
        targets.append(
            _target(
                "ratio to bare relay (18)",
                f">= {TARGET_ISSUE_18_RATIO} of baseline (burst)",
                round(ratio, 3) if ratio is not None else None,
                None
                if ratio_passed is None
                else complete and ratio is not None and ratio >= TARGET_ISSUE_18_RATIO,
                ratio_note,
            )
        )
    rss = {
        name: values["rss_peak_mb"]
        for name, values in pipeline["resources"].items()
        if name in SERVICES
    }
    worst = max(rss.values(), default=None)
    targets.append(
        _target(
            "peak RSS per service",
            f"<= {TARGET_RSS_MB:.0f} MB",
            worst,
            worst <= TARGET_RSS_MB if worst is not None else None,
            ", ".join(f"{name} {value:.0f}" for name, value in rss.items()),
        )
    )
    return targets


def build_results(
    *,
    config: Mapping[str, Any],
    machine_info: Mapping[str, Any],
    pipeline: Measurement,
    baseline: Measurement | None,
) -> dict[str, Any]:
    p = summarize_run(pipeline)
    b = summarize_run(baseline) if baseline is not None else None
    ratio = None
    if b is not None and b["throughput_be_s"] > 0 and b["missing"] == 0:
        ratio = p["throughput_be_s"] / b["throughput_be_s"]
    return {
        "machine": dict(machine_info),
        "config": dict(config),
        "pipeline": p,
        "baseline": b,
        "throughput_ratio_vs_baseline": round(ratio, 4) if ratio is not None else None,
        "targets": evaluate_targets(p, b, ratio),
    }


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def format_table(results: Mapping[str, Any]) -> str:
    """The human-readable summary printed at the end of a run."""
    m, c = results["machine"], results["config"]
    p, b = results["pipeline"], results["baseline"] or {}
    lines = [
        f"Clearance pipeline benchmark: {c['mode']}, {c['count']:,} BEs, seed {c['seed']}, "
        f"{c['partitions']} partitions" + (f", {c['rate']:g} BE/s" if c.get("rate") else ""),
        f"Machine: {m['nproc']} CPUs ({m['cpu_model']}), {m['memory_gib']} GiB, load average "
        f"at start {' / '.join(str(x) for x in m['load_average_at_start'])}, "
        f"Linux {m['kernel']}, Python {m['python']}",
        "",
        f"{'':34}{'pipeline':>14}{'bare relay':>14}",
    ]

    def row(label: str, pv: Any, bv: Any = None, digits: int = 1) -> None:
        lines.append(f"{label:34}{_fmt(pv, digits):>14}{_fmt(bv, digits):>14}")

    relayed = f"{b['terminal']}/{b['sent']}" if b else None
    row("BEs terminal / sent", f"{p['terminal']}/{p['sent']}", relayed)
    for kind, count in p["terminal_kinds"].items():
        row(f"  {kind}", count)
    for q in ("p50", "p95", "p99", "max"):
        row(
            f"latency {q} (ms, submit -> terminal)",
            (p["latency_ms"] or {}).get(q),
            (b.get("latency_ms") or {}).get(q),
        )
    row("throughput (BE/s, terminal/drain)", p["throughput_be_s"], b.get("throughput_be_s"))
    row(
        "peak 1-s throughput (BE/s)", p["peak_1s_throughput_be_s"], b.get("peak_1s_throughput_be_s")
    )
    row("drain time (s, first submit -> last)", p["drain_time_s"], b.get("drain_time_s"), 2)
    row("publish time (s)", p["publish_time_s"], b.get("publish_time_s"), 2)
    row(
        "payload mean (bytes)",
        p["payload_bytes"]["mean"],
        b.get("payload_bytes", {}).get("mean"),
        0,
    )
    if p["mode"] == "steady":
        row(
            "generator lateness p99 (ms)",
            p["generator_lateness_ms"]["p99"],
            (b.get("generator_lateness_ms") or {}).get("p99"),
            2,
        )
    ratio = results["throughput_ratio_vs_baseline"]
    lines.append(f"{'throughput ratio pipeline/baseline':34}{_fmt(ratio, 3):>14}")
    lines += [
        "",
        f"{'process (pipeline run)':34}{'cpu avg %':>10}{'cpu max %':>10}{'peak RSS MB':>13}",
    ]
    for name, r in p["resources"].items():
        lines.append(
            f"{name:34}{r['cpu_avg_percent']:>10.1f}{r['cpu_max_percent']:>10.1f}{r['rss_peak_mb']:>13.1f}"
        )
    lines.append(f"{'CPU ms per BE, all processes':34}{_fmt(p['cpu_ms_per_be']['all'], 2):>10}")
    if b.get("resources"):
        lines.append(f"{'process (baseline run)':34}")
        for name, r in b["resources"].items():
            lines.append(
                f"{name:34}{r['cpu_avg_percent']:>10.1f}{r['cpu_max_percent']:>10.1f}{r['rss_peak_mb']:>13.1f}"
            )
    lines += ["", "Targets (reported, not asserted):"]
    for t in results["targets"]:
        verdict = {True: "PASS", False: "FAIL", None: "n/a "}[t["passed"]]
        note = f"  ({t['note']})" if t["note"] else ""
        lines.append(
            f"  [{verdict}] {t['name']:26} {t['target']:34} measured {_fmt(t['measured'], 2)}{note}"
        )
    for label, run in (("pipeline", p), ("baseline", b)):
        for note in run.get("notes", []):
            lines.append(f"  note ({label}): {note}")
    return "\n".join(lines)


SERIES = ("per_second", "timeline")


def summary(results: Mapping[str, Any]) -> dict[str, Any]:
    """The results without their per-second series and sampled timeline."""
    runs = {
        name: {k: v for k, v in run.items() if k not in SERIES}
        for name in ("pipeline", "baseline")
        if (run := results.get(name)) is not None
    }
    return {**results, **runs}


def write_outputs(
    out_dir: Path,
    results: Mapping[str, Any],
    runs: Sequence[Measurement],
) -> dict[str, Path]:
    """`results.json`, `summary.json` (the same without the per-second series, small enough
    to commit under bench/results/), `bes.csv` (one row per BE and run) and `timeline.png`
    in `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "results": out_dir / "results.json",
        "summary": out_dir / "summary.json",
        "bes": out_dir / "bes.csv",
        "timeline": out_dir / "timeline.png",
    }
    paths["results"].write_text(json.dumps(results, indent=2) + "\n")
    paths["summary"].write_text(json.dumps(summary(results), indent=2) + "\n")
    with paths["bes"].open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["run", "key", "payload_bytes", "submitted_s", "terminal", "latency_ms"])
        for m in runs:
            for i, key in enumerate(m.keys):
                arrival = m.arrivals.get(key)
                writer.writerow(
                    [
                        m.label,
                        key.decode(),
                        m.payload_bytes[i],
                        round(m.submitted_at[i] - m.started_at, 4),
                        arrival.kind if arrival else "missing",
                        round((arrival.received_at - m.submitted_at[i]) * 1000, 3)
                        if arrival
                        else "",
                    ]
                )
    plot_timeline(paths["timeline"], runs, results)
    return paths


def _bin_width(span_s: float) -> float:
    """Seconds per bucket of the plot: whole seconds for long runs, finer for short ones."""
    for width in (0.1, 0.25, 0.5):
        if span_s <= width * 60:
            return width
    return 1.0


def plot_timeline(path: Path, runs: Sequence[Measurement], results: Mapping[str, Any]) -> None:
    """Latency and throughput over time for each run; lag, backlog, CPU and RSS of the pipeline."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(6, 1, figsize=(12, 20), constrained_layout=True)
    lat_ax, rate_ax, lag_ax, backlog_ax, cpu_ax, rss_ax = axes
    colours = {"pipeline": "tab:blue", "baseline": "tab:orange"}
    span = max((m.finished_at - m.started_at for m in runs), default=1.0)
    width = _bin_width(span)
    for m in runs:
        colour = colours.get(m.label, "tab:gray")
        index = {key: i for i, key in enumerate(m.keys)}
        done = [
            (a.received_at - m.started_at, (a.received_at - m.submitted_at[index[key]]) * 1000)
            for key, a in m.arrivals.items()
        ]
        lat_ax.scatter(
            [t for t, _ in done], [v for _, v in done], s=6, alpha=0.4, color=colour,
            label=f"{m.label}: each BE",
        )  # fmt: skip
        buckets: dict[int, list[float]] = {}
        for t, latency in done:
            buckets.setdefault(int(t / width), []).append(latency)
        edges = sorted(buckets)
        for q, style in ((50, "--"), (99, "-")):
            lat_ax.plot(
                [(b + 0.5) * width for b in edges],
                [percentile(buckets[b], q) for b in edges],
                color=colour, linestyle=style, linewidth=1.5, label=f"{m.label}: p{q}",
            )  # fmt: skip
        submitted = per_second((t - m.started_at) / width for t in m.submitted_at)
        completed = per_second((t / width for t, _ in done), len(submitted))
        for counts, style, what in ((completed, "-", "terminal"), (submitted, ":", "submitted")):
            rate_ax.step(
                [b * width for b in range(len(counts) + 1)],
                [c / width for c in counts] + [0.0],
                where="post", color=colour, linestyle=style, label=f"{m.label}: {what}/s",
            )  # fmt: skip
        if m.label == "pipeline":
            _series(lag_ax, m, "consumer_lag")
            _series(backlog_ax, m, "outbox_backlog")
            _series(cpu_ax, m, "cpu_percent")
            _series(rss_ax, m, "rss_mb", only=SERVICES)
    rss_ax.axhline(
        TARGET_RSS_MB, color="red", linestyle=":", label=f"target {TARGET_RSS_MB:.0f} MB"
    )
    x = "s since first submission"
    lat_ax.set(title="Latency, submission to terminal event", xlabel=x, ylabel="ms (log)")
    lat_ax.set_yscale("log")
    rate_ax.set(title=f"Throughput ({width:g}-s buckets)", xlabel=x, ylabel="BE/s")
    lag_ax.set(title="Pipeline: consumer lag per service", xlabel=x, ylabel="records")
    backlog_ax.set(title="Pipeline: outbox backlog per service", xlabel=x, ylabel="rows")
    cpu_ax.set(title="Pipeline: CPU per process (100 = one core)", xlabel=x, ylabel="%")
    rss_ax.set(title="Pipeline: RSS per service", xlabel=x, ylabel="MB")
    for ax in axes:
        ax.grid(True, alpha=0.3)
        handles, _ = ax.get_legend_handles_labels()
        if handles:
            ax.legend(fontsize=8, loc="upper right")
    c = results["config"]
    fig.suptitle(f"clearance-bench {c['mode']}: {c['count']:,} BEs, {c['partitions']} partitions")
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _series(ax: Any, m: Measurement, field_name: str, only: Sequence[str] | None = None) -> None:
    names = sorted({n for s in m.samples for n in getattr(s, field_name)})
    names = [n for n in names if only is None or n in only]
    for name in names:
        points = [
            (s.at - m.started_at, getattr(s, field_name)[name])
            for s in m.samples
            if name in getattr(s, field_name)
        ]
        ax.plot([t for t, _ in points], [v for _, v in points], label=name, linewidth=1)
