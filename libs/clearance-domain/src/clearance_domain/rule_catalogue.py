"""The rule ids of shared/domain/RULES.md, each with its text and source document.

`rules.json` (beside this module) is extracted from RULES.md by
`scripts/extract_rules.py`; a test fails when the two drift apart. Services
use it so that every reason names the document an officer should read.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources

_DOCUMENT_ROW = re.compile(r"^\|\s*`(?P<code>\d{3})_[0-9a-f]+\.txt`\s*\|\s*(?P<title>[^|]+?)\s*\|")
_RULE = re.compile(r"^- \*\*(?P<id>[A-Z]+(?:-[A-Z0-9]+)+)\*\*\s+(?P<text>.*)$")
_SEED_REFERENCES = re.compile(r"\((?P<refs>\d{3}\b[^()]*(?:\([^()]*\)[^()]*)*)\)\s*$")
_DERIVED_FROM = re.compile(r"\((?P<ids>[A-Z]+-[A-Z0-9.-]+(?:,\s*[A-Z]+-[A-Z0-9.-]+)*)\)\.?\s*$")
_SOURCE_LIMIT = 300


@dataclass(frozen=True, slots=True)
class Rule:
    rule_id: str
    text: str
    source_document: str

    def as_dict(self) -> dict[str, str]:
        return {key: value for key, value in asdict(self).items() if key != "rule_id"}


def parse_rules_markdown(markdown: str) -> list[Rule]:
    """Every `- **ID** text (refs)` bullet of RULES.md, continuation lines joined."""
    documents: dict[str, str] = {}
    bullets: list[tuple[str, str]] = []
    for line in markdown.splitlines():
        if row := _DOCUMENT_ROW.match(line):
            documents[row["code"]] = row["title"]
        elif rule := _RULE.match(line):
            bullets.append((rule["id"], rule["text"].strip()))
        elif bullets and line.startswith("  ") and line.strip():
            rule_id, text = bullets[-1]
            bullets[-1] = (rule_id, f"{text} {line.strip()}")
    return [Rule(rule_id, text, _source(text, documents)) for rule_id, text in bullets]


def _source(text: str, documents: dict[str, str]) -> str:
    """The seed documents a rule cites (`(002, 001 reg. 2(b), 3)`), the rules a
    platform rule is derived from (`(SEAL-LINK-1)`), or, for the rules beyond the
    seeds, the source named before the text's first colon."""
    if cited := _SEED_REFERENCES.search(text):
        refs = cited["refs"]
        codes = re.findall(r"\b(\d{3})\b", refs)
        titles = [documents[code] for code in dict.fromkeys(codes) if code in documents]
        return _limit(f"{'; '.join(titles)} ({refs})")
    if derived := _DERIVED_FROM.search(text):
        return f"RULES.md: a platform rule derived from {derived['ids']}"
    depth = 0
    for index, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == ":" and depth == 0:
            return _limit(text[:index])
    return _limit(text.split(". ")[0])


def _limit(text: str) -> str:
    return text if len(text) <= _SOURCE_LIMIT else text[: _SOURCE_LIMIT - 1] + "…"


@cache
def rules() -> dict[str, Rule]:
    """Rule id -> rule, from the packaged `rules.json`."""
    raw = json.loads(resources.files("clearance_domain").joinpath("rules.json").read_text())
    return {rule_id: Rule(rule_id, **fields) for rule_id, fields in raw.items()}


def source_of(rule_id: str) -> str:
    """The source document of a rule; KeyError for an id RULES.md does not define."""
    return rules()[rule_id].source_document
