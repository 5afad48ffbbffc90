"""The runtime's ``MapStorage`` port (``runtime/ports.py``) over the readers and writers here:
a distributed Map's ItemReader items and ResultWriter files, per dialect.

``StoreResolver`` mixes it in, so the resolver handed to ``Interpreter(stores=...)`` is the port.
Readers and writers are imported on first use (a run without an ItemReader never loads them).
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator

from ..runtime.records import ChildExecution
from .base import ObjectStore


class MapFiles:
    """``read_*_items`` / ``write_*_results`` of ``runtime.ports.MapStorage`` (``for_scheme`` is
    the resolver's)."""

    def read_cloudflow_items(self, store: ObjectStore, source_type: str, parameters: Any, *, csv_headers: Any,
                             max_items: int | None) -> Iterator[Any]:
        from .readers.cloudflow import read_items

        return read_items(store, source_type, parameters, csv_headers=csv_headers, max_items=max_items)

    def write_cloudflow_results(self, store: ObjectStore, *, bucket: str, prefix: str, map_run_name: str,
                                flow_name: str, children: Iterable[ChildExecution] | None = None,
                                staged: Any = None) -> str:
        """Writes the files and returns the manifest's key."""
        from .urls import join_key
        from .writers.cloudflow import result_prefix, write_results

        write_results(store, bucket=bucket, prefix=prefix, map_run_name=map_run_name, flow_name=flow_name,
                      children=children if children is not None else (), staged=staged)
        return join_key(result_prefix(prefix, map_run_name), "manifest.json")

    def read_asl_items(self, store: ObjectStore, source: str, parameters: Any, config: Any, *,
                       max_items: int | None) -> Iterator[Any]:
        from .readers.asl import read_items

        return read_items(store, source, parameters, config, max_items=max_items)

    def write_asl_results(self, store: ObjectStore, *, bucket: str, prefix: str, map_run_arn: str,
                          children: Iterable[ChildExecution] | None = None, staged: Any = None,
                          writer_config: Any = None, express: bool = False) -> dict[str, Any]:
        from .writers.asl import write_results

        return write_results(store, bucket=bucket, prefix=prefix, map_run_arn=map_run_arn,
                             children=children if children is not None else (), staged=staged,
                             writer_config=writer_config, express=express)
