"""`csos som score` engines: in memory, streamed by partition, and on a Dask LocalCluster.

Every check is per purchaser, so scoring partitions of purchasers one by one,
or on Dask workers, must write the very same FLAGS.csv as scoring everything
at once — from CSV or from Parquet.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from csos_desktop.cli import main
from csos_desktop.cli.sandbox.history import write_history_csv
from csos_desktop.domain.catalogue import bundled_catalogue
from csos_desktop.sandbox.history import GeneratorConfig, generate_history
from csos_desktop.som.history import day_number

pytest.importorskip("duckdb")
pytest.importorskip("pyarrow")

START = date(2023, 1, 2)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("batch")
    config = GeneratorConfig(
        seed=21,
        pharmacies=24,
        start=START,
        days=560,
        warmup_days=300,
        anomalies_per_pharmacy=3,
        thin_share=0.2,
    )
    data = generate_history(bundled_catalogue(), config)
    h = data.history
    split = day_number(START) + 440
    out = {"history": d / "history.csv", "orders": d / "orders.csv", "customers": d / "c.csv"}
    write_history_csv(h.select(h.day < split), out["history"])
    write_history_csv(h.select(h.day >= split), out["orders"])
    # A bad row and an NDC outside the catalogue, to be skipped and judged alike everywhere.
    with out["orders"].open("a", encoding="utf-8") as f:
        f.write("bad-1,2024-05-01,BS1234563,99101-0010-01,9143,-5\n")
        dea = h.purchasers[0]
        f.write(f"x-1,2024-06-03,{dea},00406-0552-01,9143,900\n")
    out["customers"].write_text(
        "purchaser_dea,customer_class\n"
        + "".join(f"{k},{v}\n" for k, v in sorted(data.customer_classes.items())),
        encoding="utf-8",
    )
    import duckdb

    from csos_desktop.som_batch.stage import source_sql

    for name in ("history", "orders"):
        out[f"{name}_parquet"] = d / f"{name}.parquet"
        duckdb.sql(
            f"COPY (SELECT * FROM {source_sql(out[name])})"
            f" TO '{out[f'{name}_parquet']}' (FORMAT parquet)"
        )
    return out


def _score(files: dict[str, Path], out: Path, *extra: str, parquet: bool = False) -> str:
    suffix = "_parquet" if parquet else ""
    args = [
        "som",
        "score",
        "--history",
        str(files["history" + suffix]),
        "--orders",
        str(files["orders" + suffix]),
        "--customers",
        str(files["customers"]),
        "--out",
        str(out),
        "--skip-bad-rows",
        *extra,
    ]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    return r.output


@pytest.fixture(scope="module")
def in_memory(files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> bytes:
    out = tmp_path_factory.mktemp("mem") / "flags.csv"
    _score(files, out, "--engine", "memory")
    text = out.read_bytes()
    assert b",intercept," in text or b",warn," in text  # something to compare
    return text


def test_streaming_by_partition_writes_the_same_flags(
    files: dict[str, Path], in_memory: bytes, tmp_path: Path
) -> None:
    out = tmp_path / "flags.csv"
    said = _score(files, out, "--engine", "stream", "--partitions", "5")
    assert out.read_bytes() == in_memory
    assert "line " in said and "-5 is negative" in said  # the bad row is still listed
    assert "NDC 00406-0552-01 is not in the product catalogue" in said


def test_parquet_input_writes_the_same_flags(
    files: dict[str, Path], in_memory: bytes, tmp_path: Path
) -> None:
    out = tmp_path / "flags.csv"
    _score(files, out, "--partitions", "3", parquet=True)
    assert out.read_bytes() == in_memory


def test_dask_local_cluster_with_two_workers_writes_the_same_flags(
    files: dict[str, Path], in_memory: bytes, tmp_path: Path
) -> None:
    pytest.importorskip("distributed")
    out = tmp_path / "flags.csv"
    _score(files, out, "--engine", "dask", "--scheduler", "local:2", "--partitions", "4")
    assert out.read_bytes() == in_memory


def test_bad_rows_stop_the_streamed_run_with_line_numbers(
    files: dict[str, Path], tmp_path: Path
) -> None:
    args = ["som", "score", "--history", str(files["history"]), "--orders", str(files["orders"])]
    r = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "f.csv")])
    assert r.exit_code != 0
    assert "1 bad row(s) not used" in r.output and "dosage_units: -5 is negative" in r.output
    assert not (tmp_path / "f.csv").exists()


def test_a_missing_column_is_named(files: dict[str, Path], tmp_path: Path) -> None:
    broken = tmp_path / "broken.csv"
    broken.write_text("order_id,order_date\nA,2024-01-01\n", encoding="utf-8")
    args = ["som", "score", "--history", str(broken), "--orders", str(files["orders"])]
    r = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "f.csv")])
    assert r.exit_code != 0 and "missing column(s) purchaser_dea" in r.output
