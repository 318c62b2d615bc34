"""`python -m clearance_bis_registry`: serve the register on a port (environment `CLEARANCE_*`).

CLEARANCE_BIS_REGISTRY_PORT       port (default 8010), CLEARANCE_BIS_REGISTRY_HOST (127.0.0.1)
CLEARANCE_BIS_REGISTER_CSV        the register (default: shared/domain/bis/ beside the repo)
CLEARANCE_BIS_LICENCES_JSON       the CM/L licences (default: the SAMPLE set shipped here)
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

import uvicorn

from clearance_bis_registry.app import create_app
from clearance_bis_registry.licences import load_licences
from clearance_bis_registry.register import load_register, shared_register_path

# The register is a scrape committed in February 2021 (shared/domain/bis/README.md).
REGISTER_SNAPSHOT = "2021-02"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="clearance-bis-registry", description=__doc__)
    parser.add_argument(
        "--host", default=os.environ.get("CLEARANCE_BIS_REGISTRY_HOST", "127.0.0.1")
    )
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("CLEARANCE_BIS_REGISTRY_PORT", "8010"))
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    csv_path = Path(os.environ.get("CLEARANCE_BIS_REGISTER_CSV") or shared_register_path())
    licences_path = os.environ.get("CLEARANCE_BIS_LICENCES_JSON")
    registrations = load_register(csv_path)
    licences = load_licences(Path(licences_path) if licences_path else None)
    logging.info(
        "serving %d registrations from %s and %d CM/L licences (sample data)",
        len(registrations),
        csv_path,
        len(licences),
    )
    app = create_app(registrations, licences, snapshot=REGISTER_SNAPSHOT)
    uvicorn.run(app, host=args.host, port=args.port, log_config=None, access_log=False)
