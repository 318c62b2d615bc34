"""`clearance-bis-registry [serve|migrate]` (`python -m clearance_bis_registry`): serve the
register on a port (environment `CLEARANCE_*`).

serve (default)  load the register and the licences, then serve them
migrate          nothing to do (no database); exits 0, as the image's `migrate` command must

CLEARANCE_BIS_REGISTRY_HOST, CLEARANCE_BIS_REGISTRY_PORT   where to listen (the local stack
    sets the port); when unset, CLEARANCE_HTTP_HOST, CLEARANCE_HTTP_PORT (a container's, as
    every image sets them); else 127.0.0.1:8010
CLEARANCE_BIS_REGISTER_CSV        the register (default: shared/domain/bis/ beside the repo)
CLEARANCE_BIS_LICENCES_JSON       the CM/L licences (default: the SAMPLE set shipped here)
CLEARANCE_LOG_LEVEL               INFO unless set
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Mapping
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from clearance_bis_registry.app import create_app
from clearance_bis_registry.licences import load_licences
from clearance_bis_registry.register import load_register, shared_register_path

# The register is a scrape committed in February 2021 (shared/domain/bis/README.md).
REGISTER_SNAPSHOT = "2021-02"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8010

#: Every environment variable the registry reads (the deploy tests check the containers'
#: settings against these names, as they check the services' against their settings classes).
SETTINGS = (
    "CLEARANCE_BIS_REGISTRY_HOST",
    "CLEARANCE_BIS_REGISTRY_PORT",
    "CLEARANCE_HTTP_HOST",
    "CLEARANCE_HTTP_PORT",
    "CLEARANCE_BIS_REGISTER_CSV",
    "CLEARANCE_BIS_LICENCES_JSON",
    "CLEARANCE_LOG_LEVEL",
)

log = logging.getLogger("clearance_bis_registry")


def listen_address(environ: Mapping[str, str]) -> tuple[str, int]:
    """Host and port to listen on. The registry's own names come first: the local stack
    starts it with CLEARANCE_BIS_REGISTRY_PORT in an environment it inherits, where a
    CLEARANCE_HTTP_PORT meant for something else must not move it; a container sets only
    the common CLEARANCE_HTTP_* (the image's HEALTHCHECK asks /healthz there)."""
    host = (
        environ.get("CLEARANCE_BIS_REGISTRY_HOST")
        or environ.get("CLEARANCE_HTTP_HOST")
        or DEFAULT_HOST
    )
    port = (
        environ.get("CLEARANCE_BIS_REGISTRY_PORT")
        or environ.get("CLEARANCE_HTTP_PORT")
        or str(DEFAULT_PORT)
    )
    return host, int(port)


def build_app(environ: Mapping[str, str]) -> FastAPI:
    """The registry's app over the register and licences the environment names."""
    csv_path = Path(environ.get("CLEARANCE_BIS_REGISTER_CSV") or shared_register_path())
    licences_path = environ.get("CLEARANCE_BIS_LICENCES_JSON")
    registrations = load_register(csv_path)
    licences = load_licences(Path(licences_path) if licences_path else None)
    log.info(
        "serving %d registrations from %s and %d CM/L licences (sample data)",
        len(registrations),
        csv_path,
        len(licences),
    )
    return create_app(registrations, licences, snapshot=REGISTER_SNAPSHOT)


def main(argv: list[str] | None = None, environ: Mapping[str, str] | None = None) -> None:
    environ = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(
        prog="clearance-bis-registry",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", nargs="?", default="serve", choices=["serve", "migrate"])
    parser.add_argument("--host", help="overrides the environment's host")
    parser.add_argument("--port", type=int, help="overrides the environment's port")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=environ.get("CLEARANCE_LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(message)s",
    )
    if args.command == "migrate":
        log.info("nothing to migrate: the BIS registry server has no database")
        return
    host, port = listen_address(environ)
    app = build_app(environ)
    uvicorn.run(
        app,
        host=host if args.host is None else args.host,
        port=port if args.port is None else args.port,
        log_config=None,
        access_log=False,
    )
