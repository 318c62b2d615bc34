"""ooc-issuer's handlers with fakes: facts from their owners in any order, versions,
exactly one OOC, the e-Gatepass to its custodian, the e-OOC token."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from clearance_contracts import (
    E_GATEPASS_ISSUED,
    OUT_OF_CHARGE_HELD,
    OUT_OF_CHARGE_ISSUED,
    RE_EXPORT_ORDERED,
)
from clearance_runtime.testing import event
from ooc_builders import (
    Fact,
    assessed,
    bis,
    examined,
    gate_out,
    invalidated,
    paid,
    registered,
    rms,
    sample,
)
from ooc_issuer.adapters.signing import DocumentSigner
from ooc_issuer.service_layer.handlers import handlers

pytestmark = pytest.mark.unit


@pytest.fixture
def deliver(new_uow: Callable[[], Any], signer: DocumentSigner) -> Callable[..., Any]:
    table = handlers(signer)

    async def run(*facts: Fact) -> list[Any]:
        """Each fact in its own transaction; every committed event, in order."""
        published: list[Any] = []
        for event_type, data in facts:
            uow = new_uow()
            await table[event_type](event(event_type, data), uow)
            await uow.commit()
            published += [
                (e.type, topic, e.data) for e, topic in zip(uow.published, uow.topics, strict=True)
            ]
        return published

    return run


def _types(published: list[Any]) -> list[str]:
    return [event_type for event_type, _, _ in published]


async def test_an_aeo_t2_certificate_facilitated_paid_be_gets_one_ooc_and_one_gatepass(
    deliver: Callable[..., Any], signer: DocumentSigner
) -> None:
    """OOC-AUTO-1, OOC-GP-1, OOC-EOOC-1: on the AEO directory's certificate, duty paid."""
    published = await deliver(registered(), bis(), rms(), paid())
    assert _types(published) == [OUT_OF_CHARGE_HELD, OUT_OF_CHARGE_ISSUED, E_GATEPASS_ISSUED]
    (_, _, issued), (_, topic, gatepass) = published[1], published[2]
    assert issued["mode"] == "automatic"
    assert issued["reasons"][0]["rule_id"] == "OOC-AUTO-1"
    assert topic == "custodian.e-gatepass.issued.v1.INNSA1CFS2"
    assert gatepass["custodian_code"] == "INNSA1CFS2"
    assert gatepass["igm"]["igm_no"] == "2314567"
    assert gatepass["containers"][0]["qr"].startswith(f"EGP1|{gatepass['gatepass_no']}|")
    kid, claims = signer.verify(gatepass["document_qr"])
    assert kid == issued["document"]["key_id"]
    assert (claims["ooc_no"], claims["be_no"], claims["packages"]) == (
        issued["ooc_no"],
        "2345678",
        212,
    )


async def test_a_filing_claiming_t3_without_a_certificate_is_held_for_an_officer(
    deliver: Callable[..., Any],
) -> None:
    """OOC-AUTO-1: the filer's aeo_tier claim decides nothing."""
    published = await deliver(registered(tier=None, claimed="T3"), bis(), rms(), paid())
    assert set(_types(published)) == {OUT_OF_CHARGE_HELD}  # again once the duty is paid
    held = published[-1][2]
    assert held["grantable"] is True
    assert "the filing claims T3" in held["reasons"][0]["message"]


@pytest.mark.parametrize("order", list(itertools.permutations(range(4))))
async def test_order_and_redelivery_of_facts_never_change_the_outcome(
    deliver: Callable[..., Any], order: tuple[int, ...]
) -> None:
    facts = [registered(), bis(), rms(), paid()]
    published = await deliver(*[facts[i] for i in order], *facts)
    assert _types(published).count(OUT_OF_CHARGE_ISSUED) == 1
    assert _types(published).count(E_GATEPASS_ISSUED) == 1


async def test_a_late_v1_fact_never_overwrites_the_v2_case(
    deliver: Callable[..., Any], cases: Any
) -> None:
    published = await deliver(
        registered(2), bis(2), rms(2, "examination"), registered(1), bis(1), rms(1), paid()
    )
    assert OUT_OF_CHARGE_ISSUED not in _types(published)
    [case] = cases.rows.values()
    assert (case.version, case.state.value) == (2, "held")


async def test_a_post_clearance_amendment_never_issues_a_second_ooc(
    deliver: Callable[..., Any], cases: Any
) -> None:
    """INTAKE-AMEND-2: after OOC, a new version is recorded; the release stands."""
    await deliver(registered(), bis(), rms(), paid())
    published = await deliver(registered(2), bis(2), rms(2))
    assert published == []
    [case] = cases.rows.values()
    assert (case.state.value, case.issued_version, case.version) == ("out_of_charge", 1, 2)


async def test_an_assessment_is_stale_after_an_amendment_that_invalidates_it(
    deliver: Callable[..., Any],
) -> None:
    """INTAKE-AMEND-1: v1 assessed; v2 changed an element of assessment: held until v2's."""
    published = await deliver(
        registered(1), bis(1), rms(1, "assessment"), assessed(1),
        registered(2, invalidates_assessment=True), bis(2), rms(2, "assessment"), paid(),
    )  # fmt: skip
    assert OUT_OF_CHARGE_ISSUED not in _types(published)
    assert any(r["rule_id"] == "INTAKE-AMEND-1" for r in published[-1][2]["reasons"])
    published = await deliver(assessed(2, at="2025-03-21T10:00:00+05:30"))
    assert _types(published) == [OUT_OF_CHARGE_ISSUED, E_GATEPASS_ISSUED]


async def test_an_assessment_stays_valid_after_an_amendment_that_does_not_touch_it(
    deliver: Callable[..., Any],
) -> None:
    published = await deliver(
        registered(1), assessed(1), registered(2), bis(2), rms(2, "assessment"), paid()
    )
    assert OUT_OF_CHARGE_ISSUED in _types(published)


async def test_short_payment_holds_and_the_balance_releases(deliver: Callable[..., Any]) -> None:
    published = await deliver(registered(), bis(), rms(), paid(1000.0, "CHLN-1"))
    assert "duty short" in published[-1][2]["reasons"][0]["message"]
    assert published[-1][2]["grantable"] is False
    published = await deliver(paid(2881666.87, "CHLN-2"))
    assert _types(published) == [OUT_OF_CHARGE_ISSUED, E_GATEPASS_ISSUED]


async def test_after_examination_without_discrepancy_ooc_follows(
    deliver: Callable[..., Any],
) -> None:
    """OOC-EXAM-1: the examining officer's report releases even a non-AEO BE."""
    published = await deliver(registered(tier=None), bis(), rms(1, "examination"), paid())
    assert "awaiting the examination report" in published[-1][2]["reasons"][0]["message"]
    published = await deliver(examined())
    issued = published[0][2]
    assert (issued["mode"], issued["officer"]["officer_id"]) == (
        "officer",
        "officer.innsa1.appraiser-07",
    )
    assert issued["reasons"][0]["rule_id"] == "OOC-EXAM-1"


async def test_sampled_toys_clear_conditionally_and_a_failed_sample_orders_re_export(
    deliver: Callable[..., Any], cases: Any
) -> None:
    """OOC-BIS-1, BIS-QCO-3."""
    published = await deliver(registered(), bis(verdict="conditional", sampled=(1,)), rms(), paid())
    issued = next(data for t, _, data in published if t == OUT_OF_CHARGE_ISSUED)
    gatepass = next(data for t, _, data in published if t == E_GATEPASS_ISSUED)
    assert issued["conditions"][0]["condition"] == "sale_restricted"
    assert gatepass["conditions"] == issued["conditions"]
    published = await deliver(sample(conforming=False), sample(conforming=False))
    assert _types(published) == [RE_EXPORT_ORDERED]
    assert published[0][2]["reasons"][0]["rule_id"] == "BIS-QCO-3"


async def test_a_failed_bis_check_is_never_released(deliver: Callable[..., Any]) -> None:
    published = await deliver(registered(), bis(verdict="failed"), rms(), paid())
    held = published[-1][2]
    assert held["reasons"][0]["rule_id"] == "OOC-BIS-1"
    assert held["grantable"] is False


async def test_a_gate_out_closes_the_case_and_an_invalidation_empties_the_queue(
    deliver: Callable[..., Any], cases: Any
) -> None:
    published = await deliver(registered(), bis(), rms(), paid())
    gatepass_no = next(data for t, _, data in published if t == E_GATEPASS_ISSUED)["gatepass_no"]
    await deliver(gate_out("OTHER-GP", be_no="2345678"))  # not its gate pass: ignored
    [case] = cases.rows.values()
    assert case.state.value == "out_of_charge"
    await deliver(gate_out(gatepass_no))
    [case] = cases.rows.values()
    assert case.state.value == "gated_out"
    await deliver(registered(be_no="2345679"), bis(be_no="2345679"), rms(be_no="2345679"))
    await deliver(invalidated(be_no="2345679"))
    assert cases.rows["INNSA1", "2345679", case.be_date].state.value == "invalidated"


async def test_a_custodian_with_a_callback_gets_the_gatepass_pushed(
    deliver: Callable[..., Any], mailboxes: Any, new_uow: Callable[[], Any], signer: Any
) -> None:
    """OOC-GP-1: filed in the mailbox always; pushed where a callback is registered."""
    mailboxes.callbacks.add("INNSA1CFS2")
    table = handlers(signer)
    uow = new_uow()
    for event_type, data in (registered(), bis(), rms(), paid()):
        await table[event_type](event(event_type, data), uow)
    await uow.commit()
    [notification] = mailboxes.filed
    [push] = uow.deliveries
    assert push.destination == "custodian:INNSA1CFS2"
    assert push.delivery_id == notification.gatepass_no
    assert push.payload == notification.payload


async def test_a_be_naming_no_known_custodian_goes_to_the_ports_default(
    deliver: Callable[..., Any],
) -> None:
    published = await deliver(registered(custodian_code=None), bis(), rms(), paid())
    assert published[-1][1] == "custodian.e-gatepass.issued.v1.INNSA1CFS1"
