"""`clearance-local up|down|status|logs|reset`: the local stack's one CLI."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

from clearance_runtime.kafka import KafkaSecurity

from clearance_local import aeo_directory
from clearance_local.config import StackConfig
from clearance_local.identity import SCOPE_NAMES, IdentityError, IdentityProvider
from clearance_local.process import StackError
from clearance_local.stack import Stack


def _up(stack: Stack, _: argparse.Namespace) -> int:
    started = time.monotonic()
    print(f"Bringing up the '{stack.config.profile}' stack in {stack.config.data_dir}")
    endpoints = stack.up()
    loaded = asyncio.run(
        aeo_directory.load_file(
            endpoints.kafka_bootstrap,
            aeo_directory.SAMPLE,
            endpoints.kafka(aeo_directory.PARTY),
        )
    )
    print(
        f"Ready in {time.monotonic() - started:.1f}s: every component answers as this stack's own"
    )
    for component in stack.components.values():
        print(f"  {component.describe()}")
    print(f"  Secrets (0700)      {stack.config.secrets_dir}")
    print(f"  AEO directory       {loaded} SAMPLE certificates ({aeo_directory.SAMPLE.name})")
    print(f"  Addresses for tools {stack.config.data_dir / 'stack.env'} (source it)")
    return 0


def _down(stack: Stack, _: argparse.Namespace) -> int:
    stopped = stack.down()
    print(f"Stopped: {', '.join(stopped) if stopped else 'nothing was running'}")
    return 0


def _status(stack: Stack, _: argparse.Namespace) -> int:
    all_up = True
    for name, (ready, port) in stack.status().items():
        all_up &= ready
        print(f"{name:<15} {'up' if ready else 'down':<5} port {port}")
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


def _aeo_directory(stack: Stack, args: argparse.Namespace) -> int:
    try:
        count = asyncio.run(
            aeo_directory.load_file(
                stack.endpoints.kafka_bootstrap,
                Path(args.file),
                stack.endpoints.kafka(aeo_directory.PARTY),
            )
        )
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"published {count} AEO certificates from {args.file}")
    return 0


def _reset(stack: Stack, _: argparse.Namespace) -> int:
    stack.reset()
    print(f"Removed {stack.config.data_dir} (downloads in {stack.config.cache_dir} kept)")
    return 0


def _dlq(stack: Stack, args: argparse.Namespace) -> int:
    lines = asyncio.run(
        dead_letters(
            stack.endpoints.kafka_bootstrap,
            replay=args.action == "replay",
            topic=args.topic,
            consumer=args.consumer,
            key=args.key,
            security=stack.endpoints.kafka_admin,
        )
    )
    print("\n".join(lines))
    return 0


async def dead_letters(
    bootstrap: str,
    *,
    replay: bool,
    topic: str | None = None,
    consumer: str | None = None,
    key: str | None = None,
    security: KafkaSecurity | None = None,
) -> list[str]:
    """List (or replay to their topics) the dead letters of one or every dead-letter
    topic, chosen by the service that gave up and the BE key; one line each, then a total."""
    from clearance_contracts import topics
    from clearance_runtime import dlq

    def chosen(letter: dlq.DeadLetter) -> bool:
        return consumer in (None, letter.consumer) and key in (None, letter.key)

    names = [topic] if topic else [spec.name for spec in topics() if spec.dead_letter]
    lines = []
    for name in names:
        letters = await dlq.replay(
            bootstrap, name, select=chosen, dry_run=not replay, security=security
        )
        for letter in letters:
            lines.append(
                f"{letter.topic}@{letter.offset} {letter.key} [{letter.consumer}] {letter.reason}"
            )
    lines.append(f"{'replayed' if replay else 'found'} {len(lines)} dead letters")
    return lines


def _token(stack: Stack, args: argparse.Namespace) -> int:
    endpoints = stack.endpoints
    provider = IdentityProvider(endpoints.keycloak_url, endpoints.keycloak_admin_password)
    scope = {name: value for name in SCOPE_NAMES if (value := getattr(args, name))}
    try:
        print(provider.token(args.role, user=args.user, **scope))
    except IdentityError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        provider.close()
    return 0


def _kafka_credentials(stack: Stack, args: argparse.Namespace) -> int:
    """kcat `-X` options of one party, for trying topics by hand (SASL/PLAIN: Debian's kcat
    cannot do SCRAM with Kafka 4, see kafka.py)."""
    endpoints = stack.endpoints
    security = endpoints.kafka_admin if args.party == "admin" else endpoints.kafka(args.party)
    print(" ".join(f"-X {option}" for option in security.librdkafka_options("PLAIN")))
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
    directory = verbs.add_parser(
        "aeo-directory", help="publish AEO certificates from a CSV file (the bulk loader)"
    )
    directory.add_argument("action", choices=["load"])
    directory.add_argument("file", help="CSV: certificate_no,iec,tier,entity_name,valid_from,...")
    dead = verbs.add_parser("dlq", help="list dead letters, or replay them to their topic")
    dead.add_argument("action", choices=["list", "replay"])
    dead.add_argument("--topic", help="one dead-letter topic (default: all of them)")
    dead.add_argument("--consumer", help="only those this service gave up on")
    dead.add_argument("--key", help="only those of this BE (<port_code>/<be_no>/<be_date>)")
    token = verbs.add_parser(
        "token", help="print an access token of the local identity provider (SAMPLE users)"
    )
    token.add_argument(
        "--role",
        required=True,
        choices=["filer", "officer", "custodian", "upstream", "administrator"],
    )
    token.add_argument("--user", help="an existing user (default: one made for role and scope)")
    token.add_argument("--cb-code", dest="cb_code", help="filer: its Customs Broker code")
    token.add_argument("--iec", help="filer: its Importer-Exporter Code")
    token.add_argument("--location", help="officer: customs location(s), e.g. INNSA1")
    token.add_argument("--groups", help="officer: assessment groups, e.g. 5C,5M")
    token.add_argument("--functions", help="officer: assessment,examination,ooc,bond")
    token.add_argument("--custodian", help="custodian: its custodian code, e.g. INNSA1CFS2")
    creds = verbs.add_parser(
        "kafka-credentials", help="print kcat -X options of a party (e.g. icegate-upstream)"
    )
    creds.add_argument("party", help="a party of the AsyncAPI document, or admin")
    args = parser.parse_args(argv)
    stack = Stack(StackConfig.from_env(args.profile))
    handlers = {
        "up": _up,
        "down": _down,
        "status": _status,
        "logs": _logs,
        "reset": _reset,
        "aeo-directory": _aeo_directory,
        "dlq": _dlq,
        "token": _token,
        "kafka-credentials": _kafka_credentials,
    }
    try:
        return handlers[args.verb](stack, args)
    except StackError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
