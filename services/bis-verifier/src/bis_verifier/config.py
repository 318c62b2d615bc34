"""Settings of bis-verifier (environment `CLEARANCE_*`)."""

from pathlib import Path

from clearance_runtime.settings import ServiceSettings


def _shared_register() -> Path:
    """The real BIS-CRS register in `shared/` beside the repository."""
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "domain" / "bis" / "crs-register-2021.csv"
        if candidate.exists():
            return candidate
    return Path("shared/domain/bis/crs-register-2021.csv")


class Settings(ServiceSettings):
    service_name: str = "bis-verifier"
    db_schema: str = "bis_verifier"
    http_port: int = 8002
    bis_register_csv: Path = _shared_register()
