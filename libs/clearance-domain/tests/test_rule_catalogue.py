"""rules.json is RULES.md's rule ids, each with its source document."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from clearance_domain.rule_catalogue import parse_rules_markdown, rules, source_of

pytestmark = pytest.mark.unit

HERE = Path(__file__).resolve().parent.parent
RULES_MD = HERE.parent.parent.parent / "shared" / "domain" / "RULES.md"


def test_the_packaged_catalogue_matches_rules_md() -> None:
    """Fails when RULES.md changed and `scripts/extract_rules.py` was not re-run."""
    assert RULES_MD.exists(), f"{RULES_MD} is where the rules live, beside the repository"
    script = HERE / "scripts" / "extract_rules.py"
    assert subprocess.run([sys.executable, str(script), "--check"], check=False).returncode == 0


def test_seed_rules_cite_their_documents() -> None:
    assert "Instruction 07/2025" in source_of("BIS-CRS-3")
    assert "toys" in source_of("BIS-QCO-2")
    assert "Notification 34/2021" in source_of("INTAKE-LATE-3")
    assert len(rules()) >= 50


def test_continuation_lines_belong_to_their_rule() -> None:
    markdown = (
        "| `002_ab12.txt` | Air Cargo Complex Mumbai |\n"
        "- **INTAKE-X-1** first line\n  second line (002)\n- **INTAKE-X-2** other (002 para 1)\n"
    )
    parsed = {rule.rule_id: rule for rule in parse_rules_markdown(markdown)}
    assert parsed["INTAKE-X-1"].text == "first line second line (002)"
    assert parsed["INTAKE-X-2"].source_document == "Air Cargo Complex Mumbai (002 para 1)"
