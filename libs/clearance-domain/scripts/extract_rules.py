"""Regenerate src/clearance_domain/rules.json from shared/domain/RULES.md.

    uv run python libs/clearance-domain/scripts/extract_rules.py          # rewrite
    uv run python libs/clearance-domain/scripts/extract_rules.py --check  # exit 1 on drift

Each rule id of RULES.md becomes an entry with its text and its source document,
so that a decision reason can name the document an officer should read.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE / "src"))

from clearance_domain.rule_catalogue import parse_rules_markdown  # noqa: E402

RULES_MD = HERE.parent.parent.parent / "shared" / "domain" / "RULES.md"
OUTPUT = HERE / "src" / "clearance_domain" / "rules.json"


def render(markdown: str) -> str:
    rules = parse_rules_markdown(markdown)
    return json.dumps({rule.rule_id: rule.as_dict() for rule in rules}, indent=2) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--rules", type=Path, default=RULES_MD)
    args = parser.parse_args()
    text = render(args.rules.read_text(encoding="utf-8"))
    if args.check:
        return 0 if OUTPUT.read_text(encoding="utf-8") == text else 1
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
