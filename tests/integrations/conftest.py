"""Object-storage servers (moto S3 and the OSS bridge) for the integration tests."""

from tests.support.fixtures import *  # noqa: F401,F403  (oss_server, s3_server)
