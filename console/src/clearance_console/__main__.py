"""`python -m clearance_console`: serve the operations console."""

from __future__ import annotations

import uvicorn
from clearance_runtime.logs import configure_logging

from clearance_console.app import build
from clearance_console.config import Settings


def main() -> None:
    settings = Settings()
    configure_logging("console", settings.log_level)
    uvicorn.run(
        build(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
    )


if __name__ == "__main__":
    main()
