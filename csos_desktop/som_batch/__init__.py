"""SOM at distributor scale: history and orders streamed from CSV or Parquet, scored per partition.

The input is read lazily (DuckDB) in batches, checked with the same per-value
checks as :mod:`csos_desktop.som.loaders`, and split by purchaser DEA number into
Parquet partitions on disk. Each partition is scored with the same code as the
pharmacy client (:func:`csos_desktop.som.score`): every check is per purchaser, so
a partition holds everything its orders are judged against, and memory is
bounded by one partition, not by the input. Partitions run one after another
(``stream``) or on Dask workers (``dask``); the results are merged in the order
the orders came in, so every engine writes the same FLAGS.csv.

Needs the ``som-scale`` extra (duckdb, pyarrow; dask[distributed] for ``dask``).
"""
