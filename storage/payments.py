"""The payments ledger (``domain.ports.PaymentRepository``): append-only, one row per money event.

Rows are inserted and read; nothing here updates or deletes one, and the database refuses it too (triggers,
``storage.models.PAYMENTS_APPEND_ONLY``), so a ledger row is never rewritten, whoever tries. A second delivery of
one event - the same charge (``charge_ref``) and ``kind`` - inserts nothing (``INSERT ... ON CONFLICT DO
NOTHING``), which is how a ``successful_payment`` delivered twice is recorded once, even by two processes at once.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, bindparam, func, select

from domain.model import Currency, PaymentMode
from domain.payments import LedgerEntry, LedgerKind, Sums
from storage.db import AnyRow, Db
from storage.models import Base, PaymentRow, UTCDateTime
from storage.repositories import dialect_insert

_P: Table = Base.metadata.tables[PaymentRow.__tablename__]
_COLUMNS = (
    "booking_id", "mentor_id", "payer_id", "kind", "amount", "currency", "mode", "charge_ref",
    "telegram_payment_charge_id", "provider_payment_charge_id", "recorded_at",
)  # fmt: skip


@functools.cache
def _insert_once(dialect: str) -> Any:
    """``INSERT ... ON CONFLICT (charge_ref, kind) DO NOTHING RETURNING id`` (built once per dialect)."""
    stmt = dialect_insert(dialect, _P).values({name: bindparam(name) for name in _COLUMNS})
    return stmt.on_conflict_do_nothing(index_elements=["charge_ref", "kind"]).returning(_P.c.id)


def _entry(row: AnyRow) -> LedgerEntry:
    return LedgerEntry(
        id=row.id,
        booking_id=row.booking_id,
        mentor_id=row.mentor_id,
        payer_id=row.payer_id,
        kind=LedgerKind(row.kind),
        amount=row.amount,
        currency=Currency(row.currency),
        mode=PaymentMode(row.mode),
        charge_ref=row.charge_ref,
        recorded_at=row.recorded_at,
        telegram_charge_id=row.telegram_payment_charge_id,
        provider_charge_id=row.provider_payment_charge_id,
    )


def _values(entry: LedgerEntry) -> dict[str, Any]:
    return {
        "booking_id": entry.booking_id,
        "mentor_id": entry.mentor_id,
        "payer_id": entry.payer_id,
        "kind": entry.kind.value,
        "amount": entry.amount,
        "currency": entry.currency.value,
        "mode": entry.mode.value,
        "charge_ref": entry.charge_ref,
        "telegram_payment_charge_id": entry.telegram_charge_id,
        "provider_payment_charge_id": entry.provider_charge_id,
        "recorded_at": entry.recorded_at,
    }


_ORDER = (_P.c.recorded_at, _P.c.id)
_BY_ID = select(_P).where(_P.c.id == bindparam("id"))
_OF_BOOKING = select(_P).where(_P.c.booking_id == bindparam("booking_id")).order_by(_P.c.id)
_OF_MENTOR = select(_P).where(_P.c.mentor_id == bindparam("mentor_id")).order_by(*_ORDER)
_SUMS = select(_P.c.currency, _P.c.kind, func.sum(_P.c.amount)).where(_P.c.mentor_id == bindparam("mentor_id"))
_SUMS_ALL = _SUMS.group_by(_P.c.currency, _P.c.kind)
_SUMS_SINCE = _SUMS.where(_P.c.recorded_at >= bindparam("since", type_=UTCDateTime())).group_by(
    _P.c.currency, _P.c.kind
)


class SqlPaymentRepository:
    """Implements ``domain.ports.PaymentRepository`` on a unit of work's connection; never commits, never updates
    or deletes."""

    def __init__(self, db: Db) -> None:
        self._db = db

    async def add(self, entry: LedgerEntry) -> LedgerEntry | None:
        if entry.amount <= 0:
            raise ValueError("a ledger amount is positive")
        new_id = await self._db.scalar(_insert_once(self._db.dialect), _values(entry))
        if new_id is None:
            return None
        return replace(entry, id=new_id)

    async def get(self, payment_id: int) -> LedgerEntry | None:
        row = await self._db.first(_BY_ID, {"id": payment_id})
        return _entry(row) if row is not None else None

    async def for_booking(self, booking_id: int) -> list[LedgerEntry]:
        return [_entry(row) for row in await self._db.rows(_OF_BOOKING, {"booking_id": booking_id})]

    async def for_mentor(self, mentor_id: int) -> list[LedgerEntry]:
        return [_entry(row) for row in await self._db.rows(_OF_MENTOR, {"mentor_id": mentor_id})]

    async def sums_for_mentor(self, mentor_id: int, since: datetime | None = None) -> Sums:
        if since is None:
            rows = await self._db.rows(_SUMS_ALL, {"mentor_id": mentor_id})
        else:
            rows = await self._db.rows(_SUMS_SINCE, {"mentor_id": mentor_id, "since": since})
        return {(Currency(currency), LedgerKind(kind)): Decimal(total) for currency, kind, total in rows}
