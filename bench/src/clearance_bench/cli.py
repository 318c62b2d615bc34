"""`clearance-bench burst|steady|smoke`: the benchmark against the local `bench` stack.

    uv run clearance-bench burst                 # the national day: 10,000 BEs at once
    uv run clearance-bench steady --rate 100 --duration 60
    uv run clearance-bench smoke                 # 300 BEs, a quick check that it all works

Brings the `bench` profile up (Kafka, PostgreSQL, Zipkin and the five services,
under .data/bench/, on free ports), runs the pipeline and then the bare relay
baseline with the same messages, prints the table and writes results.json,
bes.csv and timeline.png. Each run starts from a fresh bench stack: a state left by
earlier runs (topics with their backlogs, BEs filed by an older workload) would be
measured with it. `--reuse` keeps it (quicker, for repeated runs of one build). The
stack is left running afterwards (`--down` stops it).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from datetime import datetime
from pathlib import Path

from clearance_local.config import StackConfig, repo_root
from clearance_local.process import StackError
from clearance_local.stack import Stack

from clearance_bench.benchmark import Plan, run_benchmark
from clearance_bench.pipeline_run import target_from_stack

DEFAULT_COUNTS = {"burst": 10_000, "smoke": 300}
PROFILE = "bench"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clearance-bench",
        description="Pipeline benchmark: a day of India's imports, against the bare broker.",
    )
    parser.add_argument("mode", choices=["burst", "steady", "smoke"])
    parser.add_argument(
        "--count", type=int, help="BEs (burst 10000, smoke 300; steady: rate x duration)"
    )
    parser.add_argument("--rate", type=float, default=100.0, help="steady: BE/s (default 100)")
    parser.add_argument("--duration", type=float, default=60.0, help="steady: seconds (default 60)")
    parser.add_argument("--seed", type=int, default=42, help="workload seed (default 42)")
    parser.add_argument(
        "--partitions",
        type=int,
        help="partitions per topic when the bench stack creates them (CLEARANCE_KAFKA_PARTITIONS, "
        "default 3); existing topics keep theirs",
    )
    parser.add_argument(
        "--replicas",
        help="extra processes per service, e.g. be-intake=2 (CLEARANCE_REPLICAS): they join "
        "the service's consumer group",
    )
    parser.add_argument(
        "--out", type=Path, help="output folder (default bench-results/<mode>-<time>/)"
    )
    parser.add_argument("--timeout", type=float, help="seconds to wait for the last terminal event")
    parser.add_argument("--no-baseline", action="store_true", help="skip the bare relay baseline")
    parser.add_argument("--down", action="store_true", help="stop the bench stack afterwards")
    parser.add_argument(
        "--reuse", action="store_true", help="keep the bench stack's state from earlier runs"
    )
    return parser


def plan_from(args: argparse.Namespace) -> Plan:
    if args.mode == "steady":
        count = args.count or round(args.rate * args.duration)
        return Plan("steady", count, args.seed, args.rate, not args.no_baseline, args.timeout)
    count = args.count or DEFAULT_COUNTS[args.mode]
    return Plan("burst", count, args.seed, None, not args.no_baseline, args.timeout)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.partitions:
        os.environ["CLEARANCE_KAFKA_PARTITIONS"] = str(args.partitions)
    if args.replicas:
        os.environ["CLEARANCE_REPLICAS"] = args.replicas
    plan = plan_from(args)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out_dir = args.out or repo_root() / "bench-results" / f"{args.mode}-{stamp}"
    stack = Stack(StackConfig.from_env(PROFILE))
    if not args.reuse:
        print(f"Resetting the '{PROFILE}' stack (--reuse keeps it)")
        stack.reset()
        stack = Stack(StackConfig.from_env(PROFILE))
    # The load generator, listener and bare relays (subprocesses) authenticate as the
    # Kafka administrator: they write the upstream's topic and read every service's.
    os.environ.update(stack.endpoints.kafka_admin.as_env())
    print(f"Bringing up the '{PROFILE}' stack in {stack.config.data_dir}")
    try:
        stack.up(log=print, services=True)
    except StackError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        outcome = asyncio.run(
            run_benchmark(
                plan,
                target_from_stack(stack),
                numbering_path=stack.config.data_dir / "bench-be-numbers.json",
                out_dir=out_dir,
            )
        )
    finally:
        if args.down:
            print(f"Stopped: {', '.join(stack.down())}")
    print()
    print(outcome.table)
    print()
    for name, path in outcome.paths.items():
        print(f"{name:>9}: {path}")
    if args.partitions and outcome.results["config"]["partitions"] != args.partitions:
        print(
            f"note: the intake topic has {outcome.results['config']['partitions']} partitions; "
            "--partitions applies when topics are created (rerun without --reuse)"
        )
    return 0 if outcome.complete else 1


if __name__ == "__main__":
    sys.exit(main())
