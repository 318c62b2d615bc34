"""`clearance-local up|down|status|logs|reset`: the local stack's one CLI."""

from __future__ import annotations

import argparse
import os
import sys
import time

from clearance_local.config import StackConfig
from clearance_local.process import StackError
from clearance_local.stack import Stack


def _up(stack: Stack, _: argparse.Namespace) -> int:
    started = time.monotonic()
    print(f"Bringing up the '{stack.config.profile}' stack in {stack.config.data_dir}")
    endpoints = stack.up()
    print(f"Ready in {time.monotonic() - started:.1f}s")
    print(f"  Kafka bootstrap     {endpoints.kafka_bootstrap}")
    print(f"  PostgreSQL (admin)  {endpoints.postgres_admin_dsn}")
    print(f"  Trace viewer        {endpoints.zipkin_url}/zipkin/")
    print(f"  BIS registry        {endpoints.bis_registry_url}/docs")
    for name, service in stack.services.items():
        print(f"  {name:<19} {service.url}/docs")
    print(f"  Addresses for tools {stack.config.data_dir / 'stack.env'}")
    return 0


def _down(stack: Stack, _: argparse.Namespace) -> int:
    stopped = stack.down()
    print(f"Stopped: {', '.join(stopped) if stopped else 'nothing was running'}")
    return 0


def _status(stack: Stack, _: argparse.Namespace) -> int:
    all_up = True
    for name, (ready, port) in stack.status().items():
        all_up &= ready
        print(f"{name:<10} {'up' if ready else 'down':<5} port {port}")
    return 0 if all_up else 3


def _logs(stack: Stack, args: argparse.Namespace) -> int:
    names = (
        [args.component]
        if args.component
        else sorted(path.stem for path in stack.config.logs_dir.glob("*.log"))
    )
    for name in names:
        path = stack.config.logs_dir / f"{name}.log"
        if not path.exists():
            print(f"no log for {name}", file=sys.stderr)
            continue
        lines = path.read_text(errors="replace").splitlines()[-args.lines :]
        print(f"==> {path} <==")
        print("\n".join(lines))
    if args.follow and args.component:
        os.execvp("tail", ["tail", "-n", "0", "-F", str(stack.config.logs_dir / f"{name}.log")])
    return 0


def _reset(stack: Stack, _: argparse.Namespace) -> int:
    stack.reset()
    print(f"Removed {stack.config.data_dir} (downloads in {stack.config.cache_dir} kept)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="clearance-local", description=__doc__)
    parser.add_argument(
        "--profile", default=None, help="stack name, a folder under .data (default: local)"
    )
    verbs = parser.add_subparsers(dest="verb", required=True)
    verbs.add_parser("up", help="install what is missing and start everything (idempotent)")
    verbs.add_parser("down", help="stop everything")
    verbs.add_parser("status", help="what runs, on which port (exit 3 if something is down)")
    logs = verbs.add_parser("logs", help="show the tail of component logs")
    logs.add_argument("component", nargs="?")
    logs.add_argument("-n", "--lines", type=int, default=50)
    logs.add_argument("-f", "--follow", action="store_true")
    verbs.add_parser("reset", help="stop everything and delete the profile's data")
    args = parser.parse_args(argv)
    stack = Stack(StackConfig.from_env(args.profile))
    handlers = {"up": _up, "down": _down, "status": _status, "logs": _logs, "reset": _reset}
    try:
        return handlers[args.verb](stack, args)
    except StackError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
