"""XCom keys shared by the operators and what reads their results (deferral, the ``run`` engine, the
Map Run view)."""

ERROR_KEY = "cloudflow_error"
"""A failed state task's error: ``{"Code", "Detail", "State"}``."""
MAP_VIEW_KEY = "cloudflow_map_view"
"""Where the Map Run view finds the Map Run's staging area (``staging.staging_location``)."""
