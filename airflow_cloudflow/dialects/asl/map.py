"""The ASL Map state → ``model.Map`` (inline and distributed), with its ItemReader, ItemBatcher,
ResultWriter, limits and ``Label``.

"Without ``ProcessorConfig``, the Map runs INLINE"; "The deprecated ``Iterator`` also accepts
``ProcessorConfig`` with DISTRIBUTED"; "``Label``: at most 40 characters, unique within the
definition, and free of whitespace, ``? *``, ``< > { } [ ]``, ``: ; , \\ | ^ ~ $ # % & ` "`` and
control characters U+0000–U+001F and U+007F–U+009F" (asl-distributed-map.md §2.1, §2.7).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_cloudflow.partitions import in_aws_partition
from airflow_cloudflow.model import (
    AslMapConfig, ItemBatcher, ItemReader, Literal, Map, ResultWriter, StateGraph,
)
from airflow_cloudflow.dialects.asl.fields import JSONATA
from airflow_cloudflow.dialects.asl.map_options import check_reader_config, check_writer_config
from airflow_cloudflow.dialects.fields import child

if TYPE_CHECKING:  # pragma: no cover
    from airflow_cloudflow.dialects.asl.builder import AslBuilder

LABEL_MAX = 40
LABEL_FORBIDDEN = set(" \t\n\r?*<>{}[]:;,\\|^~$#%&`\"")
MODES = ("INLINE", "DISTRIBUTED")
EXECUTION_TYPES = ("STANDARD", "EXPRESS")
READER_RESOURCES = ("arn:aws:states:::s3:getObject", "arn:aws:states:::s3:listObjectsV2")
READER_CONFIG_KEYS = ("InputType", "CSVHeaderLocation", "CSVHeaders", "CSVDelimiter", "MaxItems", "MaxItemsPath",
                      "Transformation", "ManifestType", "ItemsPointer")
WRITER_RESOURCE = "arn:aws:states:::s3:putObject"
PROCESSOR_KEYS = ("StartAt", "States", "Comment", "ProcessorConfig")
PROCESSOR_CONFIG_KEYS = ("Mode", "ExecutionType")
BATCHER_KEYS = ("MaxItemsPerBatch", "MaxItemsPerBatchPath", "MaxInputBytesPerBatch", "MaxInputBytesPerBatchPath",
                "BatchInput")
READER_KEYS = ("Resource", "ReaderConfig")  # plus Parameters (JSONPath) or Arguments (JSONata)
WRITER_KEYS = ("Resource", "WriterConfig")  # plus Parameters (JSONPath) or Arguments (JSONata)


def arguments_key(language: str) -> str:
    """Where an ItemReader/ResultWriter takes its request: ``Arguments`` in JSONata, else ``Parameters``."""
    return "Arguments" if language == JSONATA else "Parameters"


def label_problem(label: str) -> str | None:
    """Why AWS rejects ``label`` at CreateStateMachine, or None."""
    if label == "":
        return "Label cannot be empty"
    if len(label) > LABEL_MAX:
        return f"Label cannot exceed {LABEL_MAX} characters"
    for ch in label:
        if ch in LABEL_FORBIDDEN or ord(ch) <= 0x1F or 0x7F <= ord(ch) <= 0x9F:
            return f"Label contains the forbidden character {ch!r}"
    return None


class AslMapBuilder:
    def __init__(self, owner: "AslBuilder"):
        self.o = owner

    @property
    def r(self):
        return self.o.r

    @property
    def f(self):
        return self.o.f

    def build(self, raw: dict, pointer: str, language: str, common: dict) -> Map:
        r, f = self.r, self.f
        name = common["name"]
        key = "ItemProcessor" if "ItemProcessor" in raw else "Iterator"
        if "ItemProcessor" in raw and "Iterator" in raw:
            r.report("ASL-E303", "give either 'ItemProcessor' or the deprecated 'Iterator', not both", child(pointer, "Iterator"))
        proc = r.mapping(raw, key, pointer, required=True, what=f"Map state {name!r}")
        pp = child(pointer, key)
        mode, execution_type = "INLINE", None
        if proc is not None:
            r.check_keys(proc, PROCESSOR_KEYS, pp, f"the {key} of {name!r}")
            config = r.mapping(proc, "ProcessorConfig", pp) or {}
            cp = child(pp, "ProcessorConfig")
            r.check_keys(config, PROCESSOR_CONFIG_KEYS, cp, "ProcessorConfig")
            mode = config.get("Mode", "INLINE")
            if mode not in MODES:
                r.report("ASL-E312", f"ProcessorConfig Mode must be INLINE or DISTRIBUTED, got {mode!r}", child(cp, "Mode"))
                mode = "INLINE"
            execution_type = config.get("ExecutionType")
            if mode == "DISTRIBUTED" and execution_type not in EXECUTION_TYPES:
                r.report("ASL-E312", "a DISTRIBUTED Map needs ProcessorConfig ExecutionType STANDARD or EXPRESS",
                         cp)
            processor = self.o.graph(proc, pp, f"the {key} of Map state {name!r}", language)
        else:
            processor = StateGraph(start_at="", states=(), location=r.location(pointer))
        distributed = mode == "DISTRIBUTED"
        if not distributed:
            # AWS accepts (and ignores) the tolerated-failure fields on inline Maps [REC imap_jsonata_field_*]
            for field in ("ItemReader", "ItemBatcher", "ResultWriter", "Label"):
                if field in raw:
                    r.report("ASL-E313", f"{field!r} is only allowed on a DISTRIBUTED Map", child(pointer, field))
        label = raw.get("Label")
        if "Label" in raw:
            problem = label_problem(label) if isinstance(label, str) else "Label must be a string"
            if problem:
                r.report("ASL-E314", problem, child(pointer, "Label"))
        selector_key = "ItemSelector" if "ItemSelector" in raw else ("Parameters" if language != JSONATA else None)
        if "ItemSelector" in raw and "Parameters" in raw:
            r.report("ASL-E303", "give either 'ItemSelector' or the deprecated 'Parameters', not both",
                     child(pointer, "Parameters"))
        items = None
        if language == JSONATA and "Items" in raw:
            items = f.payload(raw, "Items", pointer, language)
        config = AslMapConfig(
            label=label if isinstance(label, str) else None,
            execution_type=execution_type if distributed else None,
            items=items,
            max_concurrency=f.dynamic(raw, "MaxConcurrency", pointer, language),
            tolerated_failure_count=f.dynamic(raw, "ToleratedFailureCount", pointer, language),
            tolerated_failure_percentage=f.dynamic(raw, "ToleratedFailurePercentage", pointer, language, number="number"),
        )
        return Map(
            processor=processor,
            items_path=f.path(raw, "ItemsPath", pointer, nullable=False),
            execution_mode=(execution_type or "STANDARD") if distributed else None,
            item_reader=self.reader(raw, pointer, language),
            item_constructor=f.payload(raw, selector_key, pointer, language, "ItemSelector") if selector_key else None,
            item_batcher=self.batcher(raw, pointer, language),
            result_writer=self.writer(raw, pointer, language),
            asl_map=config,
            retry=f.retry(raw, pointer),
            catch=f.catch(raw, pointer, language),
            **common,
        )

    def _arguments(self, raw: dict, pointer: str, language: str) -> Any:
        return self.f.payload(raw, arguments_key(language), pointer, language)

    def reader(self, raw: dict, pointer: str, language: str) -> ItemReader | None:
        r = self.r
        reader = r.mapping(raw, "ItemReader", pointer)
        if reader is None:
            return None
        rp = child(pointer, "ItemReader")
        r.check_keys(reader, READER_KEYS + (arguments_key(language),), rp, "ItemReader")
        resource = in_aws_partition(r.string(reader, "Resource", rp, required=True, what="ItemReader") or "")
        if resource and resource not in READER_RESOURCES:
            r.report("ASL-E315", f"unsupported ItemReader Resource {resource!r} (s3:getObject or s3:listObjectsV2)",
                     child(rp, "Resource"))
        config = r.mapping(reader, "ReaderConfig", rp) or {}
        cp = child(rp, "ReaderConfig")
        r.check_keys(config, READER_CONFIG_KEYS, cp, "ReaderConfig")
        if resource in READER_RESOURCES:
            check_reader_config(config, resource, cp, r.report)
        max_items = self.f.dynamic(config, "MaxItems", cp, language)
        rest = {k: v for k, v in config.items() if k not in ("MaxItems", "MaxItemsPath")}
        return ItemReader(source_type=resource, source_parameters=self._arguments(reader, rp, language) or Literal({}),
                          resource=resource, reader_config=Literal(rest), max_items=max_items, location=r.location(rp))

    def batcher(self, raw: dict, pointer: str, language: str) -> ItemBatcher | None:
        r, f = self.r, self.f
        batcher = r.mapping(raw, "ItemBatcher", pointer)
        if batcher is None:
            return None
        bp = child(pointer, "ItemBatcher")
        r.check_keys(batcher, BATCHER_KEYS, bp, "ItemBatcher")
        per_batch = f.dynamic(batcher, "MaxItemsPerBatch", bp, language)
        per_bytes = f.dynamic(batcher, "MaxInputBytesPerBatch", bp, language)
        if per_batch is None and per_bytes is None:
            r.report("ASL-E316", "ItemBatcher needs MaxItemsPerBatch(Path) or MaxInputBytesPerBatch(Path)", bp)
        return ItemBatcher(batch_input=f.payload(batcher, "BatchInput", bp, language),
                           max_items_per_batch_value=per_batch, max_input_bytes_per_batch_value=per_bytes,
                           location=r.location(bp))

    def writer(self, raw: dict, pointer: str, language: str) -> ResultWriter | None:
        r = self.r
        writer = r.mapping(raw, "ResultWriter", pointer)
        if writer is None:
            return None
        wp = child(pointer, "ResultWriter")
        r.check_keys(writer, WRITER_KEYS + (arguments_key(language),), wp, "ResultWriter")
        resource = r.string(writer, "Resource", wp)
        resource = None if resource is None else in_aws_partition(resource)
        if resource is not None and resource != WRITER_RESOURCE:
            r.report("ASL-E315", f"unsupported ResultWriter Resource {resource!r} ({WRITER_RESOURCE})",
                     child(wp, "Resource"))
        config = r.mapping(writer, "WriterConfig", wp)
        if config is not None:
            r.check_keys(config, ("OutputType", "Transformation"), child(wp, "WriterConfig"), "WriterConfig")
            check_writer_config(config, child(wp, "WriterConfig"), r.report)
        if resource is None and config is None:
            r.report("ASL-E317", "ResultWriter needs Resource and Parameters, WriterConfig, or both", wp)
        return ResultWriter(parameters=self._arguments(writer, wp, language) or Literal({}), resource=resource,
                            writer_config=config, location=r.location(wp))
