"""The AsyncAPI document passes the official AsyncAPI parser (scripts/validate-asyncapi.mjs)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import clearance_contracts as contracts
import pytest

pytestmark = pytest.mark.integration

CONTRACTS = Path(__file__).resolve().parent.parent
PACKAGE = CONTRACTS / "src" / "clearance_contracts"
SCRIPT = CONTRACTS / "scripts" / "validate-asyncapi.mjs"


def _validate(document: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    assert node, "node is not on PATH: install Node.js 18+ to validate the AsyncAPI document"
    parser = CONTRACTS / "node_modules" / "@asyncapi" / "parser"
    assert parser.is_dir(), (
        f"{parser} is missing: run `npm ci --prefix contracts` (bin/clearance test does)"
    )
    return subprocess.run(
        [node, str(SCRIPT), str(document)],
        capture_output=True,
        text=True,
        cwd=CONTRACTS,
        timeout=90,
        check=False,
    )


def test_asyncapi_document_is_valid() -> None:
    result = _validate(PACKAGE / "asyncapi.yaml")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    errors = [line for line in output.splitlines() if line.startswith("error ")]
    assert not errors, output
    channels = len(contracts.asyncapi_document()["channels"])  # a topic per custodian: one
    assert f"valid AsyncAPI 3.0.0 ({channels} channels" in output, output


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        ("asyncapi.yaml", "action: receive", "action: consume", "action"),
        ("asyncapi.yaml", "partitions: 1", "partitions: one", "partitions"),
        (
            "asyncapi.yaml",
            "./schemas/clearance.out-of-charge.held.v1.json",
            "./schemas/clearance.out-of-charge.held.v2.json",
            "invalid-ref",
        ),
        (
            "schemas/clearance.out-of-charge.held.v1.json",
            '"type": "object"',
            '"type": "objekt"',
            "json-schema-2020-12",
        ),
    ],
    ids=["bad-action", "bad-binding", "missing-payload-schema", "broken-payload-schema"],
)
def test_the_validator_rejects_a_broken_document(
    tmp_path: Path, file: str, old: str, new: str, expected: str
) -> None:
    """The check above can fail: a broken copy of the document is refused."""
    copy = tmp_path / "contracts"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    target = copy / file
    text = target.read_text()
    assert old in text
    target.write_text(text.replace(old, new, 1))
    result = _validate(copy / "asyncapi.yaml")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert any(line.startswith("error ") and expected in line for line in output.splitlines()), (
        output
    )
