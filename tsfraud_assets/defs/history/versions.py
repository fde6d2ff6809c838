"""Every version of every timesheet entry: the day's raw extract against the history's last word.

The source edits rows in place and the raw layer replaces each day with the latest extract, so
an approved entry whose hours were raised afterwards looks as if it always said so. After each
extract, `record_day` compares the day's raw partition with the last version the history holds
for each entry_id of that day and appends one version row per inserted, updated and vanished
(deleted) entry to `history/timesheet_entry_versions/` (lake_layout.ENTRY_VERSIONS).

Layout: Hive-partitioned on `work_date`, and a partition only ever grows by whole new files
(`Lake.add_partition_file`), one per extract that saw a change. The key is the work date, not the
extract date, because

* the comparison needs exactly one day's history: the day's partition is all it reads, however
  many years the history holds (an extract-date key would scan every extract for each day);
* "what did this employee's day look like at time T" prunes to one partition too;
* it is the partition key of every other lake dataset, so the Glue table's partition projection,
  `lake_sources.sql` and Athena's pruning need nothing new.

What a version holds: the entry's values as seen (comments included: the history is the one
place that keeps them), the old hours / project / status / approver of the version before,
which fields changed, `updated_at` as the source stamped it and `extracted_at` (when tsfraud saw
it). `valid_from` is the source's `updated_at`; when that did not move past the previous version's
start (an edit without a new stamp), and for a deletion, which leaves no stamp, it is the time of
the extract that saw the change.
`valid_to` is not stored: setting it would mean rewriting the previous version's file; it is the
next version's `valid_from`, derived on reading (`entry_versions`, and the dbt model
`entry_history`).

A version chain is per (entry_id, work_date): an entry moved to another day is `deleted` on its
old day (when that day is re-extracted) and `inserted` on its new one, which is what the day's
picture at any time needs. Rows in quarantine are not in the raw partition but were not deleted
either: they keep their last version and are counted (`DayHistory.quarantined`).

Idempotent: an extract that changed nothing (no tracked field differs) appends nothing. Only a
bump of `updated_at` with identical values is not a version.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tsfraud_assets.lib import contract
from tsfraud_assets.lib.lake_layout import ENTRY_VERSIONS, quarantine_dataset, raw_dataset
from tsfraud_assets.resources.lake import Lake

ENTRIES = "timesheet_entries"
KEY = "entry_id"
# The fields whose change makes a new version, in the order `changed_fields` names them.
# updated_at is the source's stamp of a change, not a change itself.
TRACKED_FIELDS: tuple[str, ...] = (
    "employee_id",
    "project_id",
    "hours",
    "activity_code",
    "comment",
    "entry_channel",
    "status",
    "submitted_at",
    "approver_id",
    "approved_at",
)
OLD_FIELDS: tuple[str, ...] = ("hours", "project_id", "status", "approver_id")
INSERTED, UPDATED, DELETED = "inserted", "updated", "deleted"


def _entry_schema() -> pa.Schema:
    return contract.table(ENTRIES).arrow_schema(exclude=(KEY, "work_date"))


def version_schema() -> pa.Schema:
    """The history's file schema (without `work_date`, which is the Hive folder)."""
    entry = _entry_schema()
    return pa.schema(
        [
            pa.field(KEY, pa.int64()),
            pa.field("version", pa.int32()),
            pa.field("change_kind", pa.string()),
            pa.field("changed_fields", pa.string()),
            pa.field("valid_from", pa.timestamp("us")),
            *entry,
            *(pa.field(f"old_{name}", entry.field(name).type) for name in OLD_FIELDS),
            pa.field("extracted_at", pa.timestamp("us")),
        ]
    )


@dataclass(frozen=True)
class DayHistory:
    day: dt.date
    inserted: int
    updated: int
    deleted: int
    quarantined: int  # entries in quarantine: neither versioned nor taken for deleted
    file: str | None  # the file appended, None when nothing changed
    bytes: int = 0

    @property
    def appended(self) -> int:
        return self.inserted + self.updated + self.deleted


def latest_versions(history: pa.Table | None) -> pa.Table:
    """The last version of each entry_id (deleted ones included: a reappearing entry is
    inserted again under the next version number)."""
    schema = version_schema()
    if history is None or history.num_rows == 0:
        return schema.empty_table()
    history = history.select(schema.names).cast(schema)
    ordered = history.sort_by([(KEY, "ascending"), ("version", "descending")])
    keys = ordered.column(KEY).to_numpy()
    first = np.concatenate([[0], np.flatnonzero(np.diff(keys)) + 1])
    return ordered.take(pa.array(first, pa.int64()))


def _differs(a: pa.ChunkedArray | pa.Array, b: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Null-safe inequality: null vs value differs, null vs null does not."""
    ne = pc.fill_null(pc.not_equal(a, b), False)
    return pc.or_(ne, pc.xor(pc.is_null(a), pc.is_null(b)))


def _changed_fields(changed: dict[str, pa.Array], keep: pa.Array, inserted: pa.Array) -> pa.Array:
    """ "project_id,hours" for each kept row (null for an insert), in TRACKED_FIELDS order.

    Built over the kept rows only (the changes, few); pyarrow's binary_join_element_wise
    with null_handling="skip" returns one row here (pyarrow 26), so no kernel does it."""
    masks = {n: m.filter(keep).to_pylist() for n, m in changed.items()}
    out: list[str | None] = []
    for i, is_insert in enumerate(inserted.to_pylist()):
        out.append(None if is_insert else ",".join(n for n in TRACKED_FIELDS if masks[n][i]))
    return pa.array(out, pa.string())


def diff_day(
    extract: pa.Table,
    history: pa.Table | None,
    extracted_at: dt.datetime,
    quarantined_ids: pa.Array | None = None,
) -> pa.Table:
    """The version rows one extract adds to a day's history (empty when nothing changed).

    `extract` is the day's raw partition (the contract's columns without work_date)."""
    schema = version_schema()
    entry_names = _entry_schema().names
    last = latest_versions(history)
    now = pa.scalar(extracted_at.replace(tzinfo=None), pa.timestamp("us"))
    extract = extract.select([KEY, *entry_names]).cast(
        pa.schema([pa.field(KEY, pa.int64()), *_entry_schema()])
    )

    prev = last.select([KEY, "version", "change_kind", "valid_from", *entry_names])
    prev = prev.rename_columns([KEY, *(f"prev_{n}" for n in prev.column_names[1:])])
    joined = extract.join(prev, KEY, join_type="left outer").combine_chunks()
    was_live = pc.fill_null(pc.not_equal(joined.column("prev_change_kind"), DELETED), False)

    changed = {
        n: _differs(joined.column(n).combine_chunks(), joined.column(f"prev_{n}").combine_chunks())
        for n in TRACKED_FIELDS
    }
    any_change = pa.array([False] * joined.num_rows, pa.bool_())
    for mask in changed.values():
        any_change = pc.or_(any_change, mask)
    is_insert = pc.invert(was_live)
    is_update = pc.and_(was_live, any_change)
    keep = pc.or_(is_insert, is_update)
    kept = joined.filter(keep)
    kept_insert = is_insert.filter(keep)
    version = pc.add(pc.fill_null(kept.column("prev_version"), 0), 1)
    # The source's stamp, unless it did not move past the previous version's start (an edit
    # made without bumping updated_at): then the change is only known from this extract.
    stamped = pc.fill_null(
        pc.greater(kept.column("updated_at"), kept.column("prev_valid_from")),
        pc.is_null(kept.column("prev_valid_from")),
    )
    valid_from = pc.if_else(stamped, kept.column("updated_at"), now)
    columns: dict[str, pa.Array | pa.ChunkedArray] = {
        KEY: kept.column(KEY),
        "version": version,
        "change_kind": pc.if_else(kept_insert, pa.scalar(INSERTED), pa.scalar(UPDATED)),
        "changed_fields": _changed_fields(changed, keep, kept_insert),
        "valid_from": valid_from,
        **{n: kept.column(n) for n in entry_names},
        **{
            f"old_{n}": pc.if_else(
                kept_insert, pa.scalar(None, kept.column(n).type), kept.column(f"prev_{n}")
            )
            for n in OLD_FIELDS
        },
        "extracted_at": pa.array([now.as_py()] * kept.num_rows, pa.timestamp("us")),
    }
    changes = pa.table(columns).cast(schema)

    # Live entries of the history the extract no longer has (and quarantine does not hold).
    present = pc.is_in(last.column(KEY), value_set=extract.column(KEY).combine_chunks())
    if quarantined_ids is not None and len(quarantined_ids):
        present = pc.or_(present, pc.is_in(last.column(KEY), value_set=quarantined_ids))
    live = pc.not_equal(last.column("change_kind"), DELETED)
    gone = last.filter(pc.and_(live, pc.invert(present)))
    deleted = pa.table(
        {
            KEY: gone.column(KEY),
            "version": pc.add(gone.column("version"), 1),
            "change_kind": pa.array([DELETED] * gone.num_rows, pa.string()),
            "changed_fields": pa.nulls(gone.num_rows, pa.string()),
            "valid_from": pa.array([now.as_py()] * gone.num_rows, pa.timestamp("us")),
            **{n: gone.column(n) for n in entry_names},
            **{f"old_{n}": gone.column(n) for n in OLD_FIELDS},
            "extracted_at": pa.array([now.as_py()] * gone.num_rows, pa.timestamp("us")),
        }
    ).cast(schema)
    return pa.concat_tables([changes, deleted]).sort_by([(KEY, "ascending")])


def version_file_name(extracted_at: dt.datetime) -> str:
    """Sortable by extract time, unique per write (two extracts in one microsecond differ)."""
    stamp = extracted_at.replace(tzinfo=None).strftime("%Y%m%dT%H%M%S%f")
    return f"v-{stamp}-{uuid.uuid4().hex[:8]}.parquet"


def _quarantined_ids(lake: Lake, day: dt.date) -> pa.Array:
    q = lake.read_partition(quarantine_dataset(ENTRIES), day)
    if q is None or KEY not in q.column_names:
        return pa.array([], pa.int64())
    # A quarantined id may itself be malformed text: what does not read as a number cannot
    # match a versioned entry_id anyway.
    ids = q.column(KEY).combine_chunks()
    if not pa.types.is_integer(ids.type):
        text = pc.cast(ids, pa.string())
        ids = pc.cast(text.filter(pc.match_substring_regex(text, r"^-?\d+$")), pa.int64())
    return ids.cast(pa.int64())


def record_day(lake: Lake, day: dt.date, extracted_at: dt.datetime) -> DayHistory:
    """Compare the day's raw partition with its history and append the changes, if any.

    A day never extracted (no raw partition) is skipped: its absence is not a deletion."""
    extract = lake.read_partition(raw_dataset(ENTRIES), day)
    if extract is None:
        return DayHistory(day, 0, 0, 0, 0, None)
    quarantined = _quarantined_ids(lake, day)
    changes = diff_day(extract, lake.read_partition(ENTRY_VERSIONS, day), extracted_at, quarantined)
    kinds = changes.column("change_kind").to_pylist()
    counts = {k: kinds.count(k) for k in (INSERTED, UPDATED, DELETED)}
    if not changes.num_rows:
        return DayHistory(day, 0, 0, 0, len(quarantined), None)
    stats = lake.add_partition_file(ENTRY_VERSIONS, day, version_file_name(extracted_at), changes)
    return DayHistory(
        day,
        counts[INSERTED],
        counts[UPDATED],
        counts[DELETED],
        len(quarantined),
        stats.path,
        stats.bytes,
    )


def entry_versions(lake: Lake, days: list[dt.date]) -> pa.Table:
    """Every version of the days' entries with `work_date` and the derived `valid_to` (the next
    version's `valid_from`; null for the current one), ordered by entry and version."""
    schema = version_schema()
    data = lake.read_partitions(ENTRY_VERSIONS, days)
    if data is None:
        empty = schema.append(pa.field("work_date", pa.date32()))
        return empty.append(pa.field("valid_to", pa.timestamp("us"))).empty_table()
    data = data.sort_by([("work_date", "ascending"), (KEY, "ascending"), ("version", "ascending")])
    ids = data.column(KEY).to_pylist()
    dates = data.column("work_date").to_pylist()
    starts = data.column("valid_from").to_pylist()
    valid_to = [
        starts[i + 1]
        if i + 1 < len(ids) and (ids[i + 1], dates[i + 1]) == (ids[i], dates[i])
        else None
        for i in range(len(ids))
    ]
    return data.append_column("valid_to", pa.array(valid_to, pa.timestamp("us")))
