"""How a distributed Map's ResultWriter lays out its records, so the shards that run the children
render their records where they run (``planning/shards.py``) and the ResultWriter task only
stitches files (docs/architecture.md, "The ResultWriter stitches, it does not merge")."""

from __future__ import annotations

from ..model import Map
from ..runtime.asl.map import express_children, map_run_arn
from ..runtime.context import ExecutionContext
from ..storage.writers.files import ResultLayout


def result_layout(map_state: Map, ctx: ExecutionContext, map_run_name: str, redrive_count: int = 0
                  ) -> ResultLayout | None:
    """This Map's record layout; None when the children go into the Map's output instead (no
    ResultWriter, or an ASL one with ``WriterConfig`` only). ``redrive_count``: how often the
    children rendered with it were redriven (ASL records carry it)."""
    writer = map_state.result_writer
    if map_state.asl is not None:
        if writer is None or not writer.resource:
            return None
        from ..storage.writers.asl import layout as asl_layout

        return asl_layout(map_run_arn(map_state, ctx, map_run_name), redrive_count=redrive_count,
                          writer_config=writer.writer_config, express=express_children(map_state))
    if writer is None:
        return None
    from ..storage.writers.cloudflow import layout

    return layout(ctx.flow_name)
