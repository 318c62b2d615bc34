"""What other systems see: a BE filed with kcat, the gatepass read with kcat, the OpenAPI.

kcat authenticates as the README shows: the upstream files with its own SCRAM principal,
and a custodian reads the gatepass topic with its own.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import uuid

import httpx
import pytest
from pipeline_harness import FILED, GATEPASS, Pipeline, key_of, new_bill_of_entry

pytestmark = pytest.mark.e2e


async def _kcat(*args: str, stdin: bytes = b"") -> str:
    kcat = shutil.which("kcat")
    assert kcat, "kcat must be installed (bin/clearance installs Debian's kcat)"
    proc = await asyncio.create_subprocess_exec(
        kcat, *args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(proc.communicate(stdin), timeout=60)
    assert proc.returncode == 0
    return out.decode()


async def test_a_be_filed_with_kcat_yields_a_gatepass_readable_with_kcat(
    pipeline: Pipeline,
) -> None:
    be = new_bill_of_entry("H")
    await pipeline.facts_before(be)
    bootstrap = pipeline.infra.kafka_bootstrap
    upstream = _x_options(pipeline, "icegate-upstream")
    custodian = _x_options(pipeline, "custodian-INNSA1CFS1")  # GATEPASS is its topic
    headers = {
        "ce_specversion": "1.0",
        "ce_id": str(uuid.uuid4()),
        "ce_type": FILED,
        "ce_source": "/icegate/kcat",
        "ce_subject": key_of(be),
        "content-type": "application/json",
    }
    header_args = [arg for name, value in headers.items() for arg in ("-H", f"{name}={value}")]
    await _kcat(
        "-P",
        *upstream,
        "-b",
        bootstrap,
        "-t",
        FILED,
        "-k",
        key_of(be),
        *header_args,
        stdin=json.dumps(be).encode() + b"\n",
    )
    await pipeline.pay(be)
    await pipeline.listener.wait_for(GATEPASS, key_of(be))

    out = await _kcat(
        "-C", *custodian, "-b", bootstrap, "-t", GATEPASS, "-e", "-q", "-f", "%k\t%s\n"
    )
    mine = [line.split("\t", 1)[1] for line in out.splitlines() if line.startswith(key_of(be))]
    assert len(mine) == 1
    assert json.loads(mine[0])["bill_of_entry_ref"]["be_no"] == be["be_no"]


def _x_options(pipeline: Pipeline, party: str) -> list[str]:
    """`-X security.protocol=sasl_plaintext -X sasl.mechanisms=SCRAM-SHA-512 ...` of a party."""
    options = pipeline.infra.kafka(party).librdkafka_options("PLAIN")
    return [arg for option in options for arg in ("-X", option)]


async def test_openapi_publishes_the_contract_schemas(pipeline: Pipeline) -> None:
    async with httpx.AsyncClient(base_url=pipeline.intake_url, timeout=10) as client:
        spec = (await client.get("/openapi.json")).json()
    body = spec["paths"]["/bills-of-entry"]["post"]["requestBody"]["content"]["application/json"]
    assert "invoices" in body["schema"]["properties"]
    status = spec["paths"]["/bills-of-entry/{port_code}/{be_no}/{be_date}"]["get"]
    assert (
        "status"
        in status["responses"]["200"]["content"]["application/json"]["schema"]["properties"]
    )
