"""Semantic checks on the model (``graph.validate``), the issue-code catalogue, ASL-specific rules."""
