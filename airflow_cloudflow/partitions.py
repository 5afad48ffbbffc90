"""AWS partitions: ``arn:aws-cn:…`` and ``arn:aws-us-gov:…`` resources work like ``arn:aws:…``.

A Step Functions definition deployed to China or GovCloud names its integrations in its partition
(``arn:aws-cn:states:::lambda:invoke``, ``arn:${AWS::Partition}:…`` once substituted). What a
resource *does* does not depend on the partition, so dispatch (the integrations registry, the mocks,
the Map's ItemReader/ResultWriter, sub-flows, task tokens) looks at its ``canonical`` form: the
partition replaced by ``aws`` and a ``.waitForTaskToken`` suffix removed (``waits_for_token``). The
resource as written is what a call carries (a Lambda function ARN stays the caller's ARN) and what a
mock is first looked up by.
"""

from __future__ import annotations

import re

PARTITIONS = ("aws", "aws-cn", "aws-us-gov")
WAIT_FOR_TASK_TOKEN = ".waitForTaskToken"
_OTHER_PARTITION = re.compile(r"^arn:(aws-cn|aws-us-gov):")


def in_aws_partition(resource: str) -> str:
    """``resource`` with ``arn:aws-cn:`` / ``arn:aws-us-gov:`` written as ``arn:aws:``."""
    return _OTHER_PARTITION.sub("arn:aws:", resource, count=1) if resource.startswith("arn:aws-") else resource


def canonical(resource: str) -> str:
    """``resource`` in the ``aws`` partition, without ``.waitForTaskToken``."""
    resource = in_aws_partition(resource)
    if resource.endswith(WAIT_FOR_TASK_TOKEN):
        resource = resource[: -len(WAIT_FOR_TASK_TOKEN)]
    return resource


def partition_of(resource: str | None) -> str:
    """The partition an ARN names (``aws`` for anything else)."""
    match = _OTHER_PARTITION.match(resource or "")
    return match.group(1) if match else "aws"


def waits_for_token(resource: str) -> bool:
    """"``.waitForTaskToken``: the Task pauses until ``SendTaskSuccess``/``SendTaskFailure`` is called with its token"."""
    return resource.startswith("arn:") and resource.endswith(WAIT_FOR_TASK_TOKEN)


__all__ = ["PARTITIONS", "WAIT_FOR_TASK_TOKEN", "in_aws_partition", "canonical", "partition_of", "waits_for_token"]
