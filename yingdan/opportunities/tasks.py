"""Background work of the opportunities app (huey)."""

from huey.contrib.djhuey import db_task

from . import rollup


@db_task()
def recompute_pipeline_furthest(pipeline_id: int):
    """The deals' furthest stages of one pipeline again, after its stages were reordered or changed kind: "furthest"
    follows the current order (see rollup.rebuild_furthest)."""
    rollup.rebuild_furthest(pipeline_ids=[pipeline_id])
