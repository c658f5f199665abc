"""Where Splink runs: DuckDB in this process (default) or Spark (the scale-out path).

Both take the same settings and the same trained model file, and both score the
same Arrow tables; only the engine differs (``MDM_SPLINK_BACKEND``). DuckDB is
right up to a few million records on one machine; Spark runs the same linkage on
a cluster (``MDM_SPARK_MASTER``: ``local[N]`` for one machine, ``spark://...``
or ``yarn`` beyond). Spark's intermediate tables go to ``$MDM_SHARED_DIR``, which
every executor must reach.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mdm.settings import Settings

logger = logging.getLogger(__name__)


@contextmanager
def splink_api(settings: Settings) -> Iterator[Any]:
    """A Splink database API for the configured backend, closed afterwards."""
    if settings.splink_backend == "spark":
        with _spark_api(settings) as api:
            yield api
        return
    from splink import DuckDBAPI

    yield DuckDBAPI()


@contextmanager
def _spark_api(settings: Settings) -> Iterator[Any]:
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - pyspark is a pinned dependency
        raise RuntimeError(
            "MDM_SPLINK_BACKEND=spark needs pyspark (pip install -c constraints.txt -e .)"
        ) from exc
    from splink import SparkAPI
    from splink.backends.spark import similarity_jar_location

    # py4j logs every connection at INFO, the last ones at interpreter exit, after logging's
    # streams may be closed ("--- Logging error ---"); its warnings are enough.
    logging.getLogger("py4j").setLevel(logging.WARNING)
    checkpoints = settings.spark_checkpoint_dir
    checkpoints.mkdir(parents=True, exist_ok=True)
    spark = (
        SparkSession.builder.master(settings.spark_master)
        .appName("mdm-resolve")
        # Splink's string-similarity functions (Jaro-Winkler etc.) are Scala UDFs in this jar.
        .config("spark.jars", similarity_jar_location())
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        # Not ./spark-warehouse in whatever directory the worker started in.
        .config("spark.sql.warehouse.dir", str(settings.shared_dir / "spark-warehouse"))
        # Small inputs on one machine: few partitions; a cluster sets its own default.
        .config("spark.sql.shuffle.partitions", "8")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("WARN")
    spark.sparkContext.setCheckpointDir(str(checkpoints))
    logger.info("splink on spark: master %s, checkpoints %s", settings.spark_master, checkpoints)
    try:
        yield SparkAPI(spark_session=spark, break_lineage_method="parquet")
    finally:
        spark.stop()
