"""The writes an answer makes that must land even through an outage, as plain values.

A `Write` can be applied now, kept in the spool's memory and the journal's file (JSON) while
the database is away, and applied again after a crash: each applies exactly once by its key
(a call row is looked up by its key before it is inserted; every other kind changes a
question only while the state it expects holds).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from storage import questions
from storage.records import CallRecord
from storage.turns import finish_question, record_call

CALL, BEGIN, CHECKPOINT, FINISH, FAIL = "call", "begin", "checkpoint", "finish", "fail"
# The kinds `apply` writes with one UPDATE (atomic by itself: no transaction around it).
ONE_STATEMENT = frozenset({BEGIN, CHECKPOINT, FAIL})


@dataclass(frozen=True)
class Write:
    kind: str
    key: str  # unique: a replay that finds it done does nothing
    message_id: int | None  # the question it belongs to (writes for one land in order)
    data: dict[str, Any]

    def describe(self) -> str:
        return f"{self.kind} of question {self.message_id} ({self.key[:12]})"

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "key": self.key, "message_id": self.message_id,
                "data": self.data}  # fmt: skip

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Write:
        return cls(str(raw["kind"]), str(raw["key"]), raw.get("message_id"), dict(raw["data"]))


_CALL_FIELDS = tuple(f.name for f in dataclasses.fields(CallRecord))


def call(record: CallRecord, answer: str | None) -> Write:
    # Every field is a plain value: a shallow copy (asdict deep-copies each, ~0.1 ms a call).
    values = {name: getattr(record, name) for name in _CALL_FIELDS}
    if record.created_at is not None:
        values["created_at"] = record.created_at.isoformat()
    return Write(CALL, f"call:{record.key}", record.message_id, {"record": values,
                                                                  "answer": answer})  # fmt: skip


def begin(message_id: int, owner: str, pending: str, lease_until: datetime) -> Write:
    data = {"owner": owner, "pending": pending, "lease_until": lease_until.isoformat()}
    return Write(BEGIN, f"begin:{uuid.uuid4().hex}", message_id, data)


def checkpoint(message_id: int, owner: str, shown: str) -> Write:
    data = {"owner": owner, "checkpoint": shown}
    return Write(CHECKPOINT, f"checkpoint:{uuid.uuid4().hex}", message_id, data)


def finish(
    message_id: int, platform: str, posts: Sequence[str], call_key: str | None, call_id: int = 0
) -> Write:
    data = {"platform": platform, "posts": list(posts), "call_key": call_key, "call_id": call_id}
    return Write(FINISH, f"finish:{message_id}", message_id, data)


def fail(message_id: int) -> Write:
    return Write(FAIL, f"fail:{message_id}", message_id, {})


def apply(conn: sa.Connection, write: Write, *, again: bool) -> Any:
    """Apply `write` in `conn`'s transaction. `again`: it may have landed already (a retry
    after an outage, or a replay after a crash)."""
    d, message_id = write.data, write.message_id
    if write.kind == CALL:
        record = _record(d["record"])
        if again:
            return record_call(conn, record, d["answer"], retry=True)
        return record_call(conn, record, d["answer"])
    assert message_id is not None
    if write.kind == BEGIN:
        until = datetime.fromisoformat(d["lease_until"])
        return questions.begin_call(conn, message_id, d["owner"], d["pending"], until)
    if write.kind == CHECKPOINT:
        return questions.set_checkpoint(conn, message_id, d["owner"], d["checkpoint"])
    if write.kind == FINISH:
        return finish_question(conn, message_id, d["platform"], d["posts"], d["call_key"],
                               d.get("call_id") or 0)  # fmt: skip
    if write.kind == FAIL:
        return questions.fail(conn, message_id, only_unfinished=again)
    raise ValueError(f"unknown write {write.kind!r}")


def _record(values: dict[str, Any]) -> CallRecord:
    values = dict(values)
    if values.get("created_at"):
        values["created_at"] = datetime.fromisoformat(values["created_at"])
    return CallRecord(**values)
