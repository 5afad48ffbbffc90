"""``python -m airflow_cloudflow.editor_schemas``: rewrite the shipped ``*.schema.json`` files."""

from . import write_all

for written in write_all():
    print(written)
