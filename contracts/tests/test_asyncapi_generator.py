"""asyncapi.yaml is what scripts/generate_asyncapi.py makes of catalogue.yaml (no drift), and the
generator refuses a catalogue it cannot describe faithfully."""

from __future__ import annotations

import copy
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import clearance_contracts as contracts
import pytest
import yaml
from clearance_contracts.topology import read_topics

pytestmark = pytest.mark.unit

CONTRACTS = Path(__file__).resolve().parent.parent
GENERATOR = CONTRACTS / "scripts" / "generate_asyncapi.py"
CATALOGUE = CONTRACTS / "src" / "clearance_contracts" / "catalogue.yaml"

AEO_DIRECTORY: dict[str, Any] = {
    "type": "aeo.certificate.published.v1",
    "channel": "aeoCertificatePublished",
    "title": "AEO certificate published",
    "description": "The AEO directory's certificates, by IEC.",
    "owner": "aeo-directory",
    "consumers": ["ooc-issuer", "custodians"],
    "key": "iecKey",
    "key_template": "{iec}",
    "partitions": 6,
    "compacted": True,
}
IEC_KEY = {
    "description": "The importer's IEC.",
    "pattern": "^[A-Z0-9]{10}$",
    "example": "AAACD1234F",
}


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_asyncapi", GENERATOR)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _catalogue() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))
    return loaded


def _write(tmp_path: Path, catalogue: dict[str, Any]) -> Path:
    path = tmp_path / "catalogue.yaml"
    path.write_text(yaml.safe_dump(catalogue, sort_keys=False), encoding="utf-8")
    return path


def _with_aeo_directory() -> dict[str, Any]:
    catalogue = _catalogue()
    if "aeo-directory" not in catalogue["parties"]["external"]:
        catalogue["parties"]["external"].append("aeo-directory")
    catalogue["keys"]["iecKey"] = dict(IEC_KEY)
    catalogue["topics"].append(copy.deepcopy(AEO_DIRECTORY))
    return catalogue


def test_committed_asyncapi_is_what_the_catalogue_generates(generator: ModuleType) -> None:
    diff: str = generator.drift()
    assert not diff, (
        "asyncapi.yaml drifted from catalogue.yaml; run "
        f"`uv run python contracts/scripts/generate_asyncapi.py`:\n{diff}"
    )


def test_check_option_exits_0_when_up_to_date(
    generator: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", ["generate_asyncapi.py", "--check"])
    assert generator.main() == 0


def test_event_types_are_the_catalogue_topics_in_order() -> None:
    assert tuple(entry["type"] for entry in _catalogue()["topics"]) == contracts.EVENT_TYPES


def test_a_compacted_topic_with_fixed_partitions_reaches_topic_spec(
    generator: ModuleType, tmp_path: Path
) -> None:
    catalogue = generator.load_catalogue(_write(tmp_path, _with_aeo_directory()))
    document = generator.build_document(catalogue)
    binding = document["channels"]["aeoCertificatePublished"]["bindings"]["kafka"]
    assert binding["topicConfiguration"] == {"cleanup.policy": ["compact"]}
    assert "x-partitions-config" not in document["channels"]["aeoCertificatePublished"]
    specs = {spec.name: spec for spec in read_topics(document)}
    spec = specs["aeo.certificate.published.v1"]
    assert spec.compacted
    assert spec.partitions == 6
    assert spec.partitions_setting is None
    assert spec.key_template == "{iec}"
    assert spec.owner == "aeo-directory"
    assert spec.external_parties == ("aeo-directory", "custodians")
    dead_letters = specs["aeo.certificate.published.v1.dlq"]
    assert (dead_letters.producers, dead_letters.compacted, dead_letters.partitions) == (
        ("ooc-issuer",),
        False,
        1,
    )


def test_a_new_key_kind_becomes_the_message_key_and_subject(
    generator: ModuleType, tmp_path: Path
) -> None:
    catalogue = generator.load_catalogue(_write(tmp_path, _with_aeo_directory()))
    document = generator.build_document(catalogue)
    assert document["components"]["schemas"]["iecKey"] == {
        "type": "string",
        "description": IEC_KEY["description"],
        "pattern": IEC_KEY["pattern"],
        "examples": [IEC_KEY["example"]],
    }
    message = document["components"]["messages"]["aeoCertificatePublished"]
    key = {"$ref": "#/components/schemas/iecKey"}
    assert message["bindings"]["kafka"]["key"] == key
    assert message["headers"]["allOf"][1]["properties"]["ce_subject"] == key
    assert message["x-key"] == "{iec}"
    operations = document["operations"]
    assert operations["aeoDirectorySendsAeoCertificatePublished"]["x-external"] is True
    assert operations["custodiansReceivesAeoCertificatePublished"]["x-external"] is True
    assert "oocIssuerSendsDeadLetterAeoCertificatePublished" in operations


def test_only_external_consumers_means_no_dead_letter_topic(
    generator: ModuleType, tmp_path: Path
) -> None:
    catalogue = _with_aeo_directory()
    catalogue["topics"][-1]["consumers"] = ["custodians"]
    document = generator.build_document(generator.load_catalogue(_write(tmp_path, catalogue)))
    assert "aeoCertificatePublishedDeadLetter" not in document["channels"]


def _break(catalogue: dict[str, Any], change: str) -> None:
    """Apply one named mistake to the last topic (the AEO directory's) or the catalogue."""
    topic = catalogue["topics"][-1]
    if change == "unknown-field":
        topic["compact"] = True
    elif change == "unknown-party":
        topic["consumers"] = ["ooc-issuers"]
    elif change == "unknown-key-kind":
        topic["key"] = "sealKey"
    elif change == "bad-template":
        topic["key_template"] = "{iec!r}"
    elif change == "template-without-field":
        topic["key_template"] = "AEO"
    elif change == "duplicate-channel":
        topic["channel"] = "billOfEntryFiled"
    elif change == "duplicate-type":
        topic["type"] = contracts.BILL_OF_ENTRY_FILED
    elif change == "dead-letter-without-service":
        topic.update(consumers=["custodians"], dead_letter=True)
    elif change == "partitions-not-int":
        topic["partitions"] = True
    elif change == "example-not-matching":
        catalogue["keys"]["iecKey"]["example"] = "aeo"
    elif change == "bad-type":
        topic["type"] = "AEO certificate"


BROKEN = [
    ("unknown-field", "unknown field"),
    ("unknown-party", "not one of `parties`"),
    ("unknown-key-kind", "unknown key kind"),
    ("bad-template", "no format spec or conversion"),
    ("template-without-field", "names no field"),
    ("duplicate-channel", "used twice"),
    ("duplicate-type", "used twice"),
    ("dead-letter-without-service", "needs a consuming service"),
    ("partitions-not-int", "must be of type int"),
    ("example-not-matching", "does not match the pattern"),
    ("bad-type", "does not match"),
]


@pytest.mark.parametrize(("change", "message"), BROKEN, ids=[item[0] for item in BROKEN])
def test_a_broken_catalogue_is_refused_with_the_reason(
    generator: ModuleType, tmp_path: Path, change: str, message: str
) -> None:
    catalogue = _with_aeo_directory()
    _break(catalogue, change)
    with pytest.raises(generator.CatalogueError, match=message):
        generator.load_catalogue(_write(tmp_path, catalogue))
