# Turns every *.flow.yaml / *.asl.json below this folder into an Airflow DAG (airflow-cloudflow).
# Settings without editing a flow: <name>.airflow.yaml beside it, cloudflow.defaults.yaml per folder.
from airflow_cloudflow.providers.loader import load_flows; load_flows(globals())  # noqa: E702
