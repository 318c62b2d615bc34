"""The BIS verdict on a Bill of Entry version, item by item (pure).

For every item the coverage catalogue decides whether a BIS order covers its
tariff line on the BE date (BIS-CRS-4: every CRO item, not only CCTVs). Then:

- not covered: no check;
- Compulsory Registration Order: a registration must be declared and in the
  register, valid on the BE date (BIS-CRS-1; deferred and cancelled never
  clear, BIS-CRS-2), and its manufacturer, model and factory must be the
  declared ones, the model in scope on the BE date (BIS-CRS-3);
- Quality Control Order (toys): a CM/L licence valid on the BE date for the
  item's product and factory, the ISI mark declared (BIS-QCO-1), and two
  separate conformity certificates, one against IS 9873 (Parts 1, 2, 3, 4, 7,
  9), one against IS 9873 with IS 15644:2006 (BIS-QCO-2; one consolidated
  certificate, or a second without IS 15644:2006, holds the BE); an item that
  passes clears only conditionally: samples are drawn and the goods may not be
  sold until an NABL-accredited laboratory confirms conformity (BIS-QCO-3).

The verdict: failed if any item failed, else conditional if any item is, else
passed if any item was checked, else not_applicable.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from itertools import permutations
from typing import Any

from clearance_domain import BillOfEntry, Invoice, Item, PolicyRef, Reason, SupportingDocument
from clearance_domain.reasons import reasons_data

from bis_verifier.domain.catalogue import (
    CertificateRequirement,
    Check,
    CoverageCatalogue,
    Scheme,
    TariffLine,
)
from bis_verifier.domain.matching import (
    canonical_licence_no,
    canonical_registration_no,
    location_matches,
    manufacturer_matches,
    standard_numbers,
    standards_in,
)
from bis_verifier.domain.registry import (
    Answers,
    Found,
    Licence,
    LicenceStatus,
    Lookup,
    LookupKind,
    Registration,
    RegistrationStatus,
)

REGISTRATION_DOCUMENT = "bis_registration"
LICENCE_DOCUMENT = "bis_cml_licence"
CERTIFICATE_DOCUMENT = "conformity_certificate"


class ItemOutcome(StrEnum):
    NOT_COVERED = "not_covered"
    PASSED = "passed"
    FAILED = "failed"
    CONDITIONAL = "conditional"


@dataclass(frozen=True, slots=True)
class ItemResult:
    invoice_sl_no: int
    item_sl_no: int
    cth: str
    coverage: TariffLine | None
    outcome: ItemOutcome
    reasons: tuple[Reason, ...] = ()
    registration_no: str | None = None
    licence_no: str | None = None

    @property
    def rule_ids(self) -> list[str]:
        return list(dict.fromkeys(reason.rule_id for reason in self.reasons))

    @property
    def failures(self) -> tuple[Reason, ...]:
        return self.reasons if self.outcome is ItemOutcome.FAILED else ()

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "invoice_sl_no": self.invoice_sl_no,
            "item_sl_no": self.item_sl_no,
            "cth": self.cth,
            "covered_by": None if self.coverage is None else self.coverage.to_data(),
            "result": self.outcome.value,
            "rule_ids": self.rule_ids,
            "reasons": reasons_data(list(self.reasons)),
        }
        if self.registration_no is not None:
            data["registration_no"] = self.registration_no
        if self.licence_no is not None:
            data["licence_no"] = self.licence_no
        return data


@dataclass(frozen=True, slots=True)
class Sampling:
    """Samples drawn from these items; sale restricted until the lab result (BIS-QCO-3)."""

    items: tuple[int, ...]
    reason: Reason

    def to_data(self) -> dict[str, Any]:
        return {"items": list(self.items), "reason": self.reason.to_data()}


@dataclass(frozen=True, slots=True)
class Verdict:
    verdict: str  # passed | failed | conditional | not_applicable
    findings: tuple[Reason, ...] = ()
    items: tuple[ItemResult, ...] = ()
    catalogue: PolicyRef | None = None
    registry_snapshot_at: datetime | None = None
    sampling: Sampling | None = None

    def to_data(self) -> dict[str, Any]:
        """The verdict's fields of clearance.bis-verification.completed.v1."""
        data: dict[str, Any] = {
            "verdict": self.verdict,
            "findings": reasons_data(list(self.findings)),
            "items": [item.to_data() for item in self.items],
            "registry_snapshot_at": (
                None if self.registry_snapshot_at is None else self.registry_snapshot_at.isoformat()
            ),
            "sampling": None if self.sampling is None else self.sampling.to_data(),
        }
        if self.catalogue is not None:
            data["catalogue"] = self.catalogue.to_data()
        return data


@dataclass
class _Context:
    """What the rules of one BE read: the BE, the catalogue, the registry's answers."""

    be: BillOfEntry
    catalogue: CoverageCatalogue
    policy: PolicyRef | None
    answers: Answers
    used: list[datetime] = field(default_factory=list)  # when each answer used was read

    @property
    def on(self) -> date:
        return self.be.be_date

    def reason(self, rule_id: str, message: str, item: Item) -> Reason:
        return Reason.of(rule_id, message[:2000], item_sl_no=item.item_sl_no, policy=self.policy)

    def _record(self, lookup: Lookup) -> Registration | Licence | None:
        answer = self.answers[lookup]
        self.used.append(answer.read_at)
        return answer.record if isinstance(answer, Found) else None

    def registration(self, number: str) -> Registration | None:
        """The registration, when the register has it (None: not in the register)."""
        record = self._record(Lookup(LookupKind.REGISTRATION, number))
        return record if isinstance(record, Registration) else None

    def licence(self, number: str) -> Licence | None:
        """The CM/L licence, when the register has it (None: not in the register)."""
        record = self._record(Lookup(LookupKind.LICENCE, number))
        return record if isinstance(record, Licence) else None


def covered_items(
    be: BillOfEntry, catalogue: CoverageCatalogue
) -> Iterator[tuple[Invoice, Item, TariffLine | None]]:
    for invoice in be.invoices:
        for item in invoice.items:
            yield invoice, item, catalogue.line_for(item, be.be_date)


def documents_for(
    be: BillOfEntry, document_type: str, invoice: Invoice, item: Item
) -> list[SupportingDocument]:
    """The documents of a type that apply to an item: those naming it, or its invoice
    without an item, or neither (the whole BE)."""
    return [
        doc
        for doc in be.documents(document_type)
        if (doc.invoice_sl_no is None or doc.invoice_sl_no == invoice.invoice_sl_no)
        and (doc.item_sl_no is None or doc.item_sl_no == item.item_sl_no)
    ]


def lookups_needed(be: BillOfEntry, catalogue: CoverageCatalogue) -> set[Lookup]:
    """What the registry must answer before the BE can be verified."""
    needed: set[Lookup] = set()
    for invoice, item, line in covered_items(be, catalogue):
        if line is None:
            continue
        checks = line.order.checks
        if Check.REGISTRATION in checks:
            for doc in documents_for(be, REGISTRATION_DOCUMENT, invoice, item):
                number = canonical_registration_no(doc.reference)
                if number is not None:
                    needed.add(Lookup(LookupKind.REGISTRATION, number))
        if Check.CML_LICENCE in checks:
            for doc in documents_for(be, LICENCE_DOCUMENT, invoice, item):
                licence_no = canonical_licence_no(doc.reference)
                if licence_no is not None:
                    needed.add(Lookup(LookupKind.LICENCE, licence_no))
    return needed


def verify(
    be: BillOfEntry,
    catalogue: CoverageCatalogue,
    answers: Answers,
    policy: PolicyRef | None = None,
) -> Verdict:
    """The verdict on every item of the BE; `answers` holds every lookup
    `lookups_needed` named (KeyError otherwise: never decide without the registry)."""
    context = _Context(be, catalogue, policy, answers)
    results = []
    for invoice, item, line in covered_items(be, catalogue):
        if line is None:
            results.append(
                ItemResult(invoice.invoice_sl_no, item.item_sl_no, item.cth, None, _NOT_COVERED)
            )
        elif line.order.scheme is Scheme.CRO:
            results.append(_registered_item(context, invoice, item, line))
        else:
            results.append(_licensed_item(context, invoice, item, line))
    return _verdict(context, tuple(results))


_NOT_COVERED = ItemOutcome.NOT_COVERED


def _verdict(context: _Context, results: tuple[ItemResult, ...]) -> Verdict:
    outcomes = {result.outcome for result in results}
    findings = tuple(reason for result in results for reason in result.failures)
    sampling = None
    conditional = [r for r in results if r.outcome is ItemOutcome.CONDITIONAL]
    if conditional:
        sampled = tuple(dict.fromkeys(r.item_sl_no for r in conditional))
        listed = ", ".join(str(n) for n in sampled)
        sampling = Sampling(
            sampled,
            Reason.of(
                "BIS-QCO-3",
                f"samples are drawn from items {listed}; clearance is conditional and the goods "
                "may not be sold until an NABL-accredited laboratory confirms conformity; a "
                "failed sample means re-export or destruction at the importer's cost",
                policy=context.policy,
            ),
        )
    if ItemOutcome.FAILED in outcomes:
        verdict = "failed"
    elif ItemOutcome.CONDITIONAL in outcomes:
        verdict = "conditional"
        findings = (sampling.reason,) if sampling else ()
    elif ItemOutcome.PASSED in outcomes:
        verdict = "passed"
    else:
        verdict = "not_applicable"
    return Verdict(
        verdict=verdict,
        findings=findings,
        items=results,
        catalogue=context.policy,
        registry_snapshot_at=min(context.used, default=None),
        sampling=sampling if verdict == "conditional" else None,
    )


# -- the Compulsory Registration Order ---------------------------------------------------


def _registered_item(
    context: _Context, invoice: Invoice, item: Item, line: TariffLine
) -> ItemResult:
    """BIS-CRS-1..3 for one item: passes when one declared registration passes."""
    base = ItemResult(invoice.invoice_sl_no, item.item_sl_no, item.cth, line, ItemOutcome.FAILED)
    declared = documents_for(context.be, REGISTRATION_DOCUMENT, invoice, item)
    if not declared:
        message = (
            f"item {item.item_sl_no} (CTH {item.cth}, {line.category}) is covered by the "
            f"{line.order.title} but declares no BIS registration"
        )
        return _with(base, [context.reason("BIS-CRS-1", message, item)])
    failures: list[Reason] = []
    first_number = None
    for number in dict.fromkeys(doc.reference.strip() for doc in declared):
        canonical = canonical_registration_no(number)
        first_number = first_number or canonical or number
        if canonical is None:
            message = f"{number!r} is not a BIS-CRS registration number (R-########)"
            failures.append(context.reason("BIS-CRS-1", message, item))
            continue
        registration = context.registration(canonical)
        if registration is None:
            message = f"registration {canonical} is not in the BIS register"
            failures.append(context.reason("BIS-CRS-1", message, item))
            continue
        problems = _registration_problems(context, item, line, registration)
        if not problems:
            passed = _registration_passes(context, item, registration)
            return _with(base, passed, ItemOutcome.PASSED, registration_no=canonical)
        failures += problems
    return _with(base, failures, registration_no=first_number)


def _registration_problems(
    context: _Context, item: Item, line: TariffLine, registration: Registration
) -> list[Reason]:
    number, on = registration.number, context.on
    status = registration.status
    if status in (RegistrationStatus.DEFERRED, RegistrationStatus.CANCELLED):
        message = (
            f"registration {number} is {status.value} in the BIS register "
            f"({registration.status_text!r}): deferred and cancelled registrations never clear"
        )
        return [context.reason("BIS-CRS-2", message, item)]
    if status not in (RegistrationStatus.VALID, RegistrationStatus.MODEL_STOP_SALE):
        message = (
            f"registration {number} is not valid: {status.value} ({registration.status_text!r})"
        )
        return [context.reason("BIS-CRS-1", message, item)]
    if registration.granted_on is None or on < registration.granted_on:
        message = f"registration {number} was not granted on the BE date {on}"
        return [context.reason("BIS-CRS-1", message, item)]
    if registration.valid_upto is None or registration.valid_upto < on:
        message = (
            f"registration {number} is Operative but was valid only up to "
            f"{registration.valid_upto} (BE date {on}): not valid at clearance"
        )
        return [context.reason("BIS-CRS-1", message, item)]
    required = standard_numbers(line.standards)
    if required and not required & standard_numbers(registration.standards):
        message = (
            f"registration {number} is against {', '.join(registration.standards)}; "
            f"{line.category} need {', '.join(line.standards)}"
        )
        return [context.reason("BIS-CRS-1", message, item)]
    return _identity_problems(context, item, registration)


def _identity_problems(context: _Context, item: Item, registration: Registration) -> list[Reason]:
    """BIS-CRS-3: manufacturer, model and manufacturing location of the registration."""
    number, problems = registration.number, []
    registered_name = registration.manufacturer or registration.name_and_factory_address[:60]
    if not item.manufacturer:
        problems.append(f"no manufacturer declared (registration {number}: {registered_name})")
    elif not manufacturer_matches(
        item.manufacturer, registration.manufacturer, registration.name_and_factory_address
    ):
        problems.append(
            f"manufacturer {item.manufacturer!r} is not the registered {registered_name!r} "
            f"of {number}"
        )
    if not item.model:
        problems.append(f"no model declared (registration {number})")
    else:
        model = registration.model(item.model)
        if model is None:
            problems.append(f"model {item.model!r} is not in the scope of registration {number}")
        else:
            why = model.out_of_scope_on(context.on)
            if why is not None:
                problems.append(
                    f"model {model.model!r} of registration {number} {why} (BE date {context.on})"
                )
    factory = registration.factory_address or registration.name_and_factory_address
    if not item.manufacturing_location:
        problems.append(f"no manufacturing location declared (registration {number})")
    elif not location_matches(item.manufacturing_location, factory):
        problems.append(
            f"manufacturing location {item.manufacturing_location!r} is not the registered "
            f"factory of {number} ({factory[:120]!r})"
        )
    return [context.reason("BIS-CRS-3", message, item) for message in problems]


def _registration_passes(context: _Context, item: Item, registration: Registration) -> list[Reason]:
    standards = ", ".join(registration.standards[:2])
    message = (
        f"{registration.number} is {registration.status_text} until {registration.valid_upto} "
        f"({standards}, {registration.product}); manufacturer {item.manufacturer}, model "
        f"{item.model} and factory at {item.manufacturing_location} match the registration"
    )
    return [context.reason("BIS-CRS-3", message, item)]


# -- Quality Control Orders (toys) ---------------------------------------------------------


def _licensed_item(context: _Context, invoice: Invoice, item: Item, line: TariffLine) -> ItemResult:
    """BIS-QCO-1..3 for one item."""
    base = ItemResult(invoice.invoice_sl_no, item.item_sl_no, item.cth, line, ItemOutcome.FAILED)
    checks = line.order.checks
    failures: list[Reason] = []
    licence_no = None
    if Check.CML_LICENCE in checks:
        licence_no, problems = _licence_problems(context, invoice, item, line)
        failures += problems
    if Check.ISI_MARK in checks and item.isi_mark is not True:
        message = f"item {item.item_sl_no}: the ISI mark is not declared ({line.order.title})"
        failures.append(context.reason("BIS-QCO-1", message, item))
    if line.order.certificates:
        failures += _certificate_problems(context, invoice, item, line)
    if failures:
        return _with(base, failures, licence_no=licence_no)
    passed = [
        context.reason(
            "BIS-QCO-1",
            f"CM/L licence {licence_no} is valid for {item.cth} made by {item.manufacturer} "
            f"at {item.manufacturing_location}; ISI mark declared",
            item,
        )
    ]
    if line.order.certificates:
        names = " and ".join(requirement.name for requirement in line.order.certificates)
        message = f"separate conformity certificates against {names} are declared"
        passed.append(context.reason("BIS-QCO-2", message, item))
    if Check.SAMPLING in checks:
        message = f"item {item.item_sl_no} is sampled: sale restricted until the laboratory result"
        passed.append(context.reason("BIS-QCO-3", message, item))
        return _with(base, passed, ItemOutcome.CONDITIONAL, licence_no=licence_no)
    return _with(base, passed, ItemOutcome.PASSED, licence_no=licence_no)


def _licence_problems(
    context: _Context, invoice: Invoice, item: Item, line: TariffLine
) -> tuple[str | None, list[Reason]]:
    """BIS-QCO-1: a quoted CM/L licence valid on the BE date for the product and factory."""
    quoted = documents_for(context.be, LICENCE_DOCUMENT, invoice, item)
    if not quoted:
        message = f"item {item.item_sl_no} quotes no CM/L licence ({line.order.title})"
        return None, [context.reason("BIS-QCO-1", message, item)]
    failures: list[Reason] = []
    first = None
    for reference in dict.fromkeys(doc.reference.strip() for doc in quoted):
        number = canonical_licence_no(reference)
        first = first or number or reference
        if number is None:
            message = f"{reference!r} is not a CM/L licence number"
            failures.append(context.reason("BIS-QCO-1", message, item))
            continue
        licence = context.licence(number)
        if licence is None:
            message = f"CM/L licence {number} is not in the BIS register"
            failures.append(context.reason("BIS-QCO-1", message, item))
            continue
        problems = _licence_record_problems(context, item, line, licence)
        if not problems:
            return number, []
        failures += [context.reason("BIS-QCO-1", message, item) for message in problems]
    return first, failures


def _licence_record_problems(
    context: _Context, item: Item, line: TariffLine, licence: Licence
) -> list[str]:
    number, on = licence.number, context.on
    if licence.status is not LicenceStatus.VALID:
        return [f"CM/L licence {number} is {licence.status.value} ({licence.status_text!r})"]
    if licence.granted_on is None or on < licence.granted_on:
        return [f"CM/L licence {number} was not granted on the BE date {on}"]
    if licence.valid_upto is None or licence.valid_upto < on:
        return [f"CM/L licence {number} was valid only up to {licence.valid_upto} (BE date {on})"]
    problems = []
    required = standard_numbers(line.order.licence_standards or line.standards)
    if required and not required & standard_numbers(licence.standards):
        problems.append(
            f"CM/L licence {number} is against {', '.join(licence.standards)}, not "
            f"{', '.join(line.order.licence_standards or line.standards)}"
        )
    if not any(item.cth.startswith(scope) for scope in licence.tariff_lines):
        problems.append(
            f"CM/L licence {number} covers {', '.join(licence.tariff_lines)} "
            f"({licence.product[:80]}), not CTH {item.cth}"
        )
    if not item.manufacturer or not manufacturer_matches(
        item.manufacturer, licence.licensee, licence.licensee
    ):
        problems.append(
            f"manufacturer {item.manufacturer!r} is not the licensee {licence.licensee!r} "
            f"of CM/L licence {number}"
        )
    if not item.manufacturing_location or not location_matches(
        item.manufacturing_location, licence.factory_address
    ):
        problems.append(
            f"manufacturing location {item.manufacturing_location!r} is not the licensed "
            f"factory of {number} ({licence.factory_address!r})"
        )
    return problems


def _certificate_problems(
    context: _Context, invoice: Invoice, item: Item, line: TariffLine
) -> list[Reason]:
    """BIS-QCO-2: each required certificate is a separate document attesting its standards."""
    required = line.order.certificates
    declared = documents_for(context.be, CERTIFICATE_DOCUMENT, invoice, item)
    attested = [(doc.reference, standards_in(doc.standards or ())) for doc in declared]
    if _assignable(required, [standards for _, standards in attested]):
        return []
    names = " and ".join(requirement.name for requirement in required)
    meeting = {
        requirement.name: [ref for ref, standards in attested if requirement.met_by(standards)]
        for requirement in required
    }
    missing = [name for name, refs in meeting.items() if not refs]
    if not declared:
        message = f"no conformity certificate declared: {len(required)} are required, {names}"
    elif missing:
        listed = ", ".join(ref for ref, _ in attested)
        message = (
            f"no certificate against {' or '.join(missing)} (declared: {listed}); separate "
            f"certificates against {names} are required: the consignment is held"
        )
    else:
        listed = ", ".join(ref for ref, _ in attested)
        message = (
            f"a single consolidated certificate ({listed}) cannot stand for {len(required)}: "
            f"separate certificates against {names} are required; the consignment is held"
        )
    return [context.reason("BIS-QCO-2", message, item)]


def _assignable(required: Sequence[CertificateRequirement], attested: Sequence[Any]) -> bool:
    """Each requirement met by a different certificate (few of each: brute force)."""
    if len(attested) < len(required):
        return False
    return any(
        all(req.met_by(attested[i]) for req, i in zip(required, chosen, strict=True))
        for chosen in permutations(range(len(attested)), len(required))
    )


def _with(
    base: ItemResult,
    reasons: Sequence[Reason],
    outcome: ItemOutcome = ItemOutcome.FAILED,
    *,
    registration_no: str | None = None,
    licence_no: str | None = None,
) -> ItemResult:
    return ItemResult(
        base.invoice_sl_no,
        base.item_sl_no,
        base.cth,
        base.coverage,
        outcome,
        tuple(reasons),
        registration_no,
        licence_no,
    )
