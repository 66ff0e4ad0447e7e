"""Reading a history or orders file lazily and splitting it by purchaser into Parquet partitions."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from csos_desktop.domain.errors import InputError
from csos_desktop.som.history import day_number
from csos_desktop.som.loaders import HISTORY_COLUMNS, RowProblem
from csos_desktop.som.row_checks import Bad, ProductRef, ValueChecks

ROWS_PER_BATCH = 65_536
# Problems kept to show; the rest are counted (a file of bad rows must not fill memory).
KEPT_PROBLEMS = 1_000
DUCKDB_MEMORY = "256MB"


@dataclass(frozen=True)
class Staged:
    """One input split into partitions: where, how many rows, and what was wrong."""

    directory: Path
    rows: int
    problems: tuple[RowProblem, ...]
    bad_rows: int
    problem_count: int


def partition_of(dea: str, partitions: int) -> int:
    """The partition of a purchaser: stable across processes and machines (not ``hash``)."""
    return zlib.crc32(dea.encode("ascii", "replace")) % partitions


def _quoted(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def source_sql(path: Path) -> str:
    """A DuckDB table function reading ``path`` lazily: Parquet by its suffix, else CSV."""
    if path.suffix.lower() in (".parquet", ".pq"):
        return f"read_parquet({_quoted(path)})"
    # The dialect is stated, not sniffed: a file whose line endings change half way (rows
    # appended by another program) would defeat the sniffer. Short rows read as empty cells,
    # which the checks then report.
    return (
        f"read_csv({_quoted(path)}, all_varchar = true, header = true, delim = ',',"
        " quote = '\"', escape = '\"', strict_mode = false, null_padding = true)"
    )


def connect(work_dir: Path) -> Any:
    """A DuckDB connection that spills to ``work_dir`` rather than growing past its limit."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{DUCKDB_MEMORY}'")
    con.execute(f"SET temp_directory = {_quoted(work_dir / 'duckdb-tmp')}")
    con.execute("SET preserve_insertion_order = true")
    return con


def _check_columns(con: Any, path: Path) -> None:
    try:
        names = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source_sql(path)}").fetchall()]
    except Exception as exc:  # duckdb raises its own IOException, InvalidInputException, ...
        raise InputError(f"cannot read {path}: {exc}") from exc
    missing = [c for c in HISTORY_COLUMNS if c not in names]
    if missing:
        raise InputError(
            f"{path}: missing column(s) {', '.join(missing)};"
            f" a history file has the columns {','.join(HISTORY_COLUMNS)}"
        )


def _inconsistent_orders(con: Any, path: Path) -> set[str]:
    """Order ids that appear with more than one date or purchaser (usually none)."""
    rows = con.execute(
        f"SELECT trim(order_id) FROM {source_sql(path)} GROUP BY trim(order_id)"
        " HAVING count(DISTINCT trim(CAST(order_date AS VARCHAR))) > 1"
        " OR count(DISTINCT upper(trim(CAST(purchaser_dea AS VARCHAR)))) > 1"
    ).fetchall()
    return {str(r[0]) for r in rows}


def _batches(con: Any, path: Path) -> Iterator[Any]:
    cols = ", ".join(f"coalesce(CAST({c} AS VARCHAR), '') AS {c}" for c in HISTORY_COLUMNS)
    # A relation's Arrow reader streams (an execute() result would be copied whole first).
    with con.sql(f"SELECT {cols} FROM {source_sql(path)}").to_arrow_reader(
        batch_size=ROWS_PER_BATCH
    ) as reader:
        yield from reader


def _by_value(
    values: NDArray[Any], check: Callable[[str], object]
) -> tuple[list[object], NDArray[np.intp]]:
    """``check`` once per distinct value; the results and each row's index into them."""
    unique, inverse = np.unique(values, return_inverse=True)
    return [check(str(v)) for v in unique], inverse.reshape(-1)


class _Writers:
    """One Parquet writer per partition, opened on first use."""

    def __init__(self, directory: Path) -> None:
        import pyarrow as pa

        self.directory = directory
        self.schema = pa.schema(
            [
                ("line", pa.int64()),
                ("order_id", pa.string()),
                ("day", pa.int32()),
                ("purchaser", pa.string()),
                ("drug_code", pa.int32()),
                ("variant", pa.string()),
                ("ndc", pa.int64()),
                ("units", pa.int64()),
            ]
        )
        self._open: dict[int, Any] = {}

    def write(self, part: int, columns: dict[str, Any]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        writer = self._open.get(part)
        if writer is None:
            path = self.directory / f"part-{part:05d}.parquet"
            writer = self._open[part] = pq.ParquetWriter(path, self.schema)
        writer.write_table(pa.table(columns, schema=self.schema))

    def close(self) -> None:
        for w in self._open.values():
            w.close()


def stage(
    path: Path,
    directory: Path,
    checks: ValueChecks,
    partitions: int,
    con: Any,
) -> Staged:
    """Check every row of ``path`` and write the good ones to ``directory``/part-NNNNN.parquet."""
    _check_columns(con, path)
    suspect = _inconsistent_orders(con, path)
    first_seen: dict[str, tuple[int, str]] = {}
    directory.mkdir(parents=True, exist_ok=True)
    writers = _Writers(directory)
    problems: list[RowProblem] = []
    problem_count = bad_rows = rows = 0
    # A CSV's header is line 1; a Parquet file has rows, counted from 1.
    first_line = 1 if path.suffix.lower() in (".parquet", ".pq") else 2
    try:
        for batch in _batches(con, path):
            n = batch.num_rows
            col = {
                name: batch.column(name).to_numpy(zero_copy_only=False) for name in HISTORY_COLUMNS
            }
            line = np.arange(rows, rows + n, dtype=np.int64) + first_line
            rows += n
            oid, oid_at = _by_value(col["order_id"], checks.order_id)
            day, day_at = _by_value(col["order_date"], checks.date)
            dea, dea_at = _by_value(col["purchaser_dea"], checks.dea)
            units, units_at = _by_value(col["dosage_units"], checks.units)
            pair = np.char.add(
                np.char.add(col["ndc"].astype(str), "\t"), col["drug_code"].astype(str)
            )
            unique_pairs, pair_at = np.unique(pair, return_inverse=True)
            counts = np.bincount(pair_at.reshape(-1), minlength=len(unique_pairs))
            product: list[object] = []
            for p, c in zip(unique_pairs, counts, strict=True):
                ndc_text, _, code_text = str(p).partition("\t")
                product.append(checks.product(ndc_text, code_text, rows=int(c)))
            pair_at = pair_at.reshape(-1)
            columns = (
                (oid, oid_at),
                (day, day_at),
                (dea, dea_at),
                (product, pair_at),
                (units, units_at),
            )
            bad = np.zeros(n, dtype=np.bool_)
            for values, at in columns:
                bad |= np.asarray([isinstance(v, Bad) for v in values], dtype=np.bool_)[at]
            if suspect:
                bad |= _later_mismatch(
                    col, oid, oid_at, day, day_at, dea, dea_at, bad, suspect, first_seen
                )
            for i in np.flatnonzero(bad):
                bad_rows += 1
                found = [v[at[i]] for v, at in columns if isinstance(v[at[i]], Bad)]
                if not found:
                    o = oid[oid_at[i]]
                    found = [Bad("order_id", f"{o} appears earlier with another date or purchaser")]
                for b in found:
                    assert isinstance(b, Bad)
                    problem_count += 1
                    if len(problems) < KEPT_PROBLEMS:
                        problems.append(RowProblem(int(line[i]), b.column, b.message))
            _write_good(
                writers,
                partitions,
                ~bad,
                line,
                col,
                (oid, oid_at),
                (day, day_at),
                (dea, dea_at),
                (product, pair_at),
                (units, units_at),
            )
    finally:
        writers.close()
    return Staged(directory, rows, tuple(problems), bad_rows, problem_count)


def _later_mismatch(
    col: dict[str, Any],
    oid: list[object],
    oid_at: NDArray[np.intp],
    day: list[object],
    day_at: NDArray[np.intp],
    dea: list[object],
    dea_at: NDArray[np.intp],
    bad: NDArray[np.bool_],
    suspect: set[str],
    first_seen: dict[str, tuple[int, str]],
) -> NDArray[np.bool_]:
    """Rows of a suspect order id whose date or purchaser differ from its first good row."""
    out = np.zeros(len(bad), dtype=np.bool_)
    rows = [i for i in range(len(bad)) if not bad[i] and oid[oid_at[i]] in suspect]
    for i in rows:
        key = oid[oid_at[i]]
        d, p = day[day_at[i]], dea[dea_at[i]]
        assert isinstance(key, str) and isinstance(d, date) and isinstance(p, str)
        seen = first_seen.setdefault(key, (day_number(d), p))
        out[i] = seen != (day_number(d), p)
    return out


def _write_good(
    writers: _Writers,
    partitions: int,
    good: NDArray[np.bool_],
    line: NDArray[np.int64],
    col: dict[str, Any],
    *columns: tuple[list[Any], NDArray[np.intp]],
) -> None:
    (oid, oid_at), (day, day_at), (dea, dea_at), (product, pair_at), (units, units_at) = columns
    keep = np.flatnonzero(good)
    if not len(keep):
        return
    day_num = np.asarray([day_number(d) if isinstance(d, date) else 0 for d in day], np.int32)
    unit_num = np.asarray([u if isinstance(u, int) else 0 for u in units], np.int64)
    refs = [p if isinstance(p, ProductRef) else ProductRef("0", 0, "") for p in product]
    codes = np.asarray([r.drug_code for r in refs], np.int32)
    ndcs = np.asarray([int(r.ndc) for r in refs], np.int64)
    variants = np.asarray([r.variant for r in refs], dtype=object)
    deas = np.asarray([d if isinstance(d, str) else "" for d in dea], dtype=object)
    oids = np.asarray([o if isinstance(o, str) else "" for o in oid], dtype=object)
    part_of_dea = np.asarray([partition_of(d, partitions) for d in deas], np.int64)
    part = part_of_dea[dea_at[keep]]
    for p in np.unique(part):
        rows = keep[part == p]
        writers.write(
            int(p),
            {
                "line": line[rows],
                "order_id": oids[oid_at[rows]],
                "day": day_num[day_at[rows]],
                "purchaser": deas[dea_at[rows]],
                "drug_code": codes[pair_at[rows]],
                "variant": variants[pair_at[rows]],
                "ndc": ndcs[pair_at[rows]],
                "units": unit_num[units_at[rows]],
            },
        )
