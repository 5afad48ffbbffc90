"""Read the ``[cloudflow]`` section from Airflow's configuration into ``CloudflowSettings``."""

from __future__ import annotations

import os
from functools import lru_cache

from airflow.sdk import conf

from airflow_cloudflow.providers.settings import (
    DEFAULT_MAX_MAP_LENGTH,
    SECTION,
    CloudflowSettings,
    default_options,
    parse_settings,
)


def load_settings() -> CloudflowSettings:
    """The effective settings of this Airflow process (airflow.cfg, ``AIRFLOW__CLOUDFLOW__*`` env)."""
    options = {
        name: conf.get(SECTION, name, fallback=default)
        for name, default in default_options().items()
    }
    max_map_length = conf.getint("core", "max_map_length", fallback=DEFAULT_MAX_MAP_LENGTH)
    return parse_settings(options, airflow_home=_airflow_home(), max_map_length=max_map_length)


def _airflow_home() -> str:
    return os.path.expanduser(os.environ.get("AIRFLOW_HOME", "~/airflow"))


@lru_cache(maxsize=8)
def settings():
    """This process's ``[cloudflow]`` settings (read once)."""
    return load_settings()
