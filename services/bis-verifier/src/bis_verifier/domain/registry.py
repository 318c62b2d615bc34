"""What the BIS registry says, as the verifier's rules read it (pure).

A registration of the Compulsory Registration Order (BIS-CRS) and a CM/L
licence of the ISI Mark scheme (Quality Control Orders), in a small status
vocabulary; anything the registry says that is not in it is `unknown` and
never clears. Each answer carries when it was read: the status used for a
decision must be the status at the time of clearance (CBIC Instruction
07/2025 para 3), so the verifier never decides on an answer older than its
configured maximum age.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from bis_verifier.domain.matching import model_key


class RegistrationStatus(StrEnum):
    VALID = "valid"  # `Operative`
    MODEL_STOP_SALE = "model_stop_sale"  # valid, but models named are stopped from sale
    DEFERRED = "deferred"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"
    UNKNOWN = "unknown"

    @classmethod
    def read(cls, text: str) -> RegistrationStatus:
        try:
            return cls(text)
        except ValueError:
            return cls.UNKNOWN


class LicenceStatus(StrEnum):
    VALID = "valid"
    SUSPENDED = "suspended"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"
    UNKNOWN = "unknown"

    @classmethod
    def read(cls, text: str) -> LicenceStatus:
        try:
            return cls(text)
        except ValueError:
            return cls.UNKNOWN


@dataclass(frozen=True, slots=True)
class RegisteredModel:
    """A model of a registration, with the dates it joined and left the scope."""

    model: str
    included_on: date | None = None  # None: since the grant
    removed: bool = False
    removed_on: date | None = None  # None while removed: removed throughout (date unknown)
    stop_sale_from: date | None = None

    def out_of_scope_on(self, day: date) -> str | None:
        """Why the model is not in scope on `day`, or None when it is."""
        if self.included_on is not None and day < self.included_on:
            return f"was included in the scope only on {self.included_on}"
        if self.removed and self.removed_on is None:
            return "was deleted from the scope"
        if self.removed and self.removed_on is not None and self.removed_on <= day:
            return f"was deleted from the scope on {self.removed_on}"
        if self.stop_sale_from is not None and self.stop_sale_from <= day:
            return f"is under stop sale and supply from {self.stop_sale_from}"
        return None


@dataclass(frozen=True, slots=True)
class Registration:
    """A BIS-CRS registration."""

    number: str
    status: RegistrationStatus
    status_text: str
    granted_on: date | None
    valid_upto: date | None
    manufacturer: str | None  # None: the registry could not tell it from the address
    factory_address: str
    name_and_factory_address: str
    standards: tuple[str, ...]
    product: str
    brand: str
    models: Mapping[str, RegisteredModel] = field(default_factory=dict)  # by `model_key`

    def model(self, declared: str) -> RegisteredModel | None:
        return self.models.get(model_key(declared))


def index_models(models: list[RegisteredModel]) -> dict[str, RegisteredModel]:
    """Models by their comparison key (the first of two that compare equal wins)."""
    index: dict[str, RegisteredModel] = {}
    for model in models:
        index.setdefault(model_key(model.model), model)
    return index


@dataclass(frozen=True, slots=True)
class Licence:
    """A CM/L licence to use the ISI mark (Quality Control Orders)."""

    number: str  # CM/L-########## (10 digits)
    status: LicenceStatus
    status_text: str
    granted_on: date | None
    valid_upto: date | None
    standards: tuple[str, ...]
    product: str
    tariff_lines: tuple[str, ...]  # the product scope: ITC(HS) lines or their prefixes
    licensee: str
    factory_address: str


class LookupKind(StrEnum):
    REGISTRATION = "registration"
    LICENCE = "licence"


@dataclass(frozen=True, slots=True, order=True)
class Lookup:
    """Something to read from the registry: a registration or a licence, by number."""

    kind: LookupKind
    number: str  # canonical: R-########, CM/L-##########

    def to_data(self) -> dict[str, str]:
        return {"kind": self.kind.value, "number": self.number}


@dataclass(frozen=True, slots=True)
class Found:
    record: Registration | Licence
    read_at: datetime


@dataclass(frozen=True, slots=True)
class NotFound:
    read_at: datetime


Answer = Found | NotFound
Answers = Mapping[Lookup, Answer]
