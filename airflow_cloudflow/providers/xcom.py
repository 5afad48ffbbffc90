"""XCom keys shared by the operators and what reads their results (deferral, the ``run`` engine)."""

ERROR_KEY = "cloudflow_error"
"""A failed state task's error: ``{"Code", "Detail", "State"}``."""
