"""A place in an object store that a flow reads or writes: ``oss://bucket/key`` or ``s3://bucket/key``.

The URI is written the way Airflow normalises asset URIs (``airflow.sdk`` ``_sanitize_uri``: trailing
slashes removed, an empty path is ``/``), so a location found at parse time and the same location
found at run time give one asset. A *prefix* location (``ListObjects``, ``OSS_OBJECTS``, a
ResultWriter's ``Prefix``) names the "folder" the objects are in. No Airflow import.
"""

from __future__ import annotations

from dataclasses import dataclass

SCHEMES = ("oss", "s3")


@dataclass(frozen=True, order=True)
class DataLocation:
    """One object (``prefix=False``) or the objects below a key prefix (``prefix=True``)."""

    scheme: str
    bucket: str
    key: str = ""
    prefix: bool = False

    @property
    def path(self) -> str:
        """The key without trailing slashes (Airflow strips them from asset URIs)."""
        return self.key.rstrip("/")

    @property
    def uri(self) -> str:
        return f"{self.scheme}://{self.bucket}/{self.path}"


__all__ = ["DataLocation", "SCHEMES"]
