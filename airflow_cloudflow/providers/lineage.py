"""OpenLineage input and output datasets of a flow task (docs/assets.md#lineage).

The OpenLineage provider calls ``get_openlineage_facets_on_start`` (the locations the definition
names) and ``…_on_complete``/``…_on_failure`` (those plus what the task's stores actually read and
wrote, ``storage/recording.py``). Datasets follow OpenLineage's object-storage naming: namespace
``s3://bucket`` (``oss://bucket``), name the key (``/`` for a whole bucket). The provider is an
optional extra (``pip install airflow-cloudflow[openlineage]``): it is imported only when it calls
these methods, and without it they return None.
"""

from __future__ import annotations

from typing import Any, Iterable

from ..storage.locations import DataLocation
from .assets import DataAccessMixin, written_assets


def datasets(locations: Iterable[DataLocation]) -> list[Any]:
    from airflow.providers.common.compat.openlineage.facet import Dataset

    unique = dict.fromkeys((f"{loc.scheme}://{loc.bucket}", loc.path or "/") for loc in locations)
    return [Dataset(namespace=namespace, name=name) for namespace, name in unique]


class LineageMixin(DataAccessMixin):
    """OpenLineage's operator interface for every flow task."""

    def _lineage(self, with_run: bool):
        try:
            from airflow.providers.openlineage.extractors import OperatorLineage
        except ImportError:
            return None
        data = self.data()
        reads, writes = list(data.reads), list(data.writes)
        access = getattr(self, "_cloudflow_access", None) if with_run else None
        if access is not None:
            reads += access.reads
            writes += [loc for loc, _ in written_assets(self.step, access)]
        return OperatorLineage(inputs=datasets(reads), outputs=datasets(writes))

    def get_openlineage_facets_on_start(self):
        return self._lineage(with_run=False)

    def get_openlineage_facets_on_complete(self, task_instance):
        return self._lineage(with_run=True)

    def get_openlineage_facets_on_failure(self, task_instance):
        return self._lineage(with_run=True)


__all__ = ["LineageMixin", "datasets"]
