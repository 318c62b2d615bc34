"""`clearance-deploy generate [--check] | check | compose-env`."""

from __future__ import annotations

import argparse
import secrets
import sys
import time

from clearance_deploy import compose, generate


def _generate(check: bool) -> int:
    if check:
        stale = generate.stale()
        for path in stale:
            print(f"stale: deploy/{path} (run `uv run clearance-deploy generate`)")
        return 1 if stale else 0
    for path in generate.write():
        print(f"wrote deploy/{path}")
    return 0


def _compose_env() -> int:
    path = generate.deploy_dir() / "compose" / ".env"
    if path.exists():
        print(f"{path} exists; left as it is")
        return 0
    path.write_text(
        "".join(f"{var}={secrets.token_hex(16)}\n" for var in compose.secret_variables())
    )
    path.chmod(0o600)
    print(f"wrote {path} (owner-only)")
    return 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="clearance-deploy", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="write the generated files under deploy/")
    gen.add_argument("--check", action="store_true", help="fail when a generated file is stale")
    sub.add_parser("check", help="validate everything under deploy/ (installs the tools)")
    sub.add_parser("compose-env", help="write deploy/compose/.env with random secrets")
    args = parser.parse_args(argv)
    if args.command == "generate":
        sys.exit(_generate(args.check))
    if args.command == "compose-env":
        sys.exit(_compose_env())
    from clearance_deploy import check

    started = time.monotonic()
    ok = check.run_all(log=print)
    print(f"deploy-check {'passed' if ok else 'FAILED'} in {time.monotonic() - started:.1f} s")
    sys.exit(0 if ok else 1)
