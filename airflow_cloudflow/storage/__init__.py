"""Object storage: stores (local, OSS, S3), item readers and result writers. No Airflow import."""
