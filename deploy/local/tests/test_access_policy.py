"""The access policy of the stack: Kafka ACLs derived from the AsyncAPI document, and
PostgreSQL service roles that reach their own schema in the platform's database only."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from clearance_contracts import topics
from clearance_contracts.topology import read_topics
from clearance_local.config import SERVICE_SCHEMAS
from clearance_local.kafka_acl import CONSOLE, derive_acls, may_read, may_write, parties

UPSTREAM = "icegate-upstream"


@pytest.mark.unit
def test_the_contract_is_the_kafka_policy() -> None:
    """Only be-intake writes clearance.bill-of-entry.*, only ooc-issuer the OOC and
    gatepass topics, the upstream only icegate.*; each party's group is its name."""
    specs = topics()
    acls = derive_acls(specs)
    services, external = parties(specs)
    assert set(services) == {
        "be-intake",
        "bis-verifier",
        "rms-router",
        "warehouse-seal",
        "ooc-issuer",
        CONSOLE,
    }
    replayable = {spec.name.removesuffix(".dlq") for spec in specs if spec.name.endswith(".dlq")}
    for spec in specs:
        writers = {p for p in (*services, *external) if may_write(acls, p, spec.name)}
        # The console replays a dead letter onto the topic it came from, nothing else.
        console = {CONSOLE} if spec.name in replayable else set()
        assert writers == set(spec.producers) | console, spec.name
        readers = {p for p in (*services, *external) if may_read(acls, p, spec.name)}
        console = {CONSOLE} if spec.name.endswith(".dlq") else set()
        assert readers == set(spec.consumers) | console, spec.name
        # Besides the console's replay, one writer: be-intake, ooc-issuer.
        if spec.name.startswith("clearance.bill-of-entry.") and not spec.dead_letter:
            assert writers - {CONSOLE} == {"be-intake"}
        if spec.name.startswith(("clearance.out-of-charge.", "custodian.e-gatepass.")) and not (
            spec.dead_letter
        ):
            assert writers - {CONSOLE} == {"ooc-issuer"}
    upstream_writes = {spec.name for spec in specs if may_write(acls, UPSTREAM, spec.name)}
    assert upstream_writes == {spec.name for spec in specs if UPSTREAM in spec.producers}
    assert upstream_writes
    assert all(name.startswith("icegate.") for name in upstream_writes)
    groups = {(a.principal, a.name) for a in acls if a.resource == "GROUP"}
    assert groups == {(f"User:{p}", p) for p in (*services, *external)}


def _document(custodians: list[str]) -> dict[str, Any]:
    """A minimal AsyncAPI document: one gatepass topic per custodian."""
    channels = {
        f"gp{n}": {
            "address": f"custodian.e-gatepass.issued.v1.{code}",
            "x-owner": "ooc-issuer",
            "x-partitions-config": "CLEARANCE_KAFKA_PARTITIONS",
            "messages": {},
        }
        for n, code in enumerate(custodians)
    }
    operations: dict[str, Any] = {}
    for n, code in enumerate(custodians):
        ref = {"$ref": f"#/channels/gp{n}"}
        operations[f"send{n}"] = {"action": "send", "channel": ref, "x-service": "ooc-issuer"}
        operations[f"receive{n}"] = {
            "action": "receive",
            "channel": ref,
            "x-service": f"custodian-{code}",
            "x-external": True,
        }
    return {"channels": channels, "operations": operations, "components": {"messages": {}}}


@pytest.mark.unit
def test_each_custodian_reads_only_its_own_gatepass_topic() -> None:
    """Per-custodian topics (each naming its custodian as consumer) give each custodian
    principal its own topic and group, and nothing of another custodian's."""
    specs = read_topics(_document(["INNSA1CFS1", "INMAA1CFS2"]))
    acls = derive_acls(specs)
    mine, theirs = (
        "custodian.e-gatepass.issued.v1.INNSA1CFS1",
        "custodian.e-gatepass.issued.v1.INMAA1CFS2",
    )
    assert may_read(acls, "custodian-INNSA1CFS1", mine)
    assert not may_read(acls, "custodian-INNSA1CFS1", theirs)
    assert not may_write(acls, "custodian-INNSA1CFS1", mine)
    assert may_write(acls, "ooc-issuer", theirs)
    groups = {a.name for a in acls if a.resource == "GROUP" and "INNSA1" in a.principal}
    assert groups == {"custodian-INNSA1CFS1"}


@pytest.mark.integration
@pytest.mark.parametrize("schema", SERVICE_SCHEMAS)
async def test_a_service_role_is_no_superuser_owns_only_its_schema_and_reaches_one_database(
    schema: str, service_dsns: dict[str, str]
) -> None:
    dsn = service_dsns[schema]
    conn = await asyncpg.connect(dsn)
    try:
        role = await conn.fetchrow(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls "
            "FROM pg_roles WHERE rolname = current_user"
        )
        assert not any(role.values()), dict(role)
        owned = await conn.fetch(
            "SELECT nspname FROM pg_namespace WHERE nspowner = "
            "(SELECT oid FROM pg_roles WHERE rolname = current_user)"
        )
        assert [row[0] for row in owned] == [schema]
        others = [other for other in SERVICE_SCHEMAS if other != schema]
        for other in others:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(f"SET ROLE {other}")
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(f"CREATE TABLE {other}.intruder (id int)")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("CREATE SCHEMA intruder")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.fetch("SELECT rolpassword FROM pg_authid")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("CREATE TABLE public.intruder (id int)")
    finally:
        await conn.close()
    for database in ("postgres", "template1"):
        with pytest.raises(
            (asyncpg.InvalidAuthorizationSpecificationError, asyncpg.InsufficientPrivilegeError)
        ):
            await asyncpg.connect(dsn.rsplit("/", 1)[0] + f"/{database}")


@pytest.mark.integration
async def test_a_service_role_with_a_wrong_or_old_password_is_refused(
    service_dsns: dict[str, str],
) -> None:
    dsn = service_dsns["be_intake"]
    user, rest = dsn.removeprefix("postgresql://").split(":", 1)
    old = f"postgresql://{user}:{user}_local@{rest.split('@', 1)[1]}"
    with pytest.raises(asyncpg.InvalidPasswordError):
        await asyncpg.connect(old)
