"""The DAGs-folder loader: discovery, error isolation, strict mode, worker parses, caching."""

from __future__ import annotations

import socket
import textwrap
from pathlib import Path

import pytest

from airflow_cloudflow.loader_file import LOADER_SOURCE
from airflow_cloudflow.providers import loader
from airflow_cloudflow.providers.invalid import MARKER_TAG, marker_dag_id
from airflow_cloudflow.providers.loader import InvalidDefinitionsError, find_definitions, load_flows, sniff_dag_id
from tests.providers.loader_support import PARSING_ENV, RecordingBuilder, empty_builder, flow_text, write, write_flow

REPO_DAGS = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture(autouse=True)
def _clean(monkeypatch):
    monkeypatch.delenv(PARSING_ENV, raising=False)
    monkeypatch.delenv("AIRFLOW__CLOUDFLOW__STRICT_LOADING", raising=False)
    loader.clear_caches()
    yield
    loader.clear_caches()


def _load(folder: Path, **kwargs):
    kwargs.setdefault("builder", empty_builder)
    kwargs.setdefault("strict", False)
    namespace: dict = {}
    return load_flows(namespace, folder, **kwargs), namespace


# --------------------------------------------------------------------------- discovery


def test_every_flow_below_the_folder_becomes_a_dag_in_the_namespace(tmp_path):
    write_flow(tmp_path, "a.flow.yaml", "alpha")
    write_flow(tmp_path, "deep/er/b.flow.yml", "beta")
    dags, namespace = _load(tmp_path)
    assert sorted(dags) == ["alpha", "beta"]
    assert namespace == dags
    assert [t.task_id for t in dags["alpha"].tasks] == ["only"]


def test_default_folder_is_the_folder_of_the_calling_module(tmp_path):
    write_flow(tmp_path, "a.flow.yaml", "alpha")
    namespace = {"__file__": str(tmp_path / "cloudflow_dags.py")}
    dags = load_flows(namespace, builder=empty_builder, strict=False)
    assert list(dags) == ["alpha"] and namespace["alpha"] is dags["alpha"]


def test_without_folder_or_module_file_it_says_what_to_pass():
    with pytest.raises(ValueError, match="folder="):
        load_flows({}, builder=empty_builder, strict=False)


def test_only_definition_patterns_are_picked_up(tmp_path):
    for name in ("a.flow.yaml", "b.flow.yml", "c.asl.json", "d.asl.yaml"):
        write(tmp_path, name, "x")
    for name in ("plain.yaml", "a.airflow.yaml", "cloudflow.defaults.yaml", "notes.json", "flow.yaml.bak"):
        write(tmp_path, name, "x")
    assert [p.name for p in find_definitions(tmp_path)] == ["a.flow.yaml", "b.flow.yml", "c.asl.json", "d.asl.yaml"]


def test_airflowignore_glob_syntax_hides_files_and_folders(tmp_path):
    write_flow(tmp_path, "keep.flow.yaml", "keep")
    write_flow(tmp_path, "drafts/wip.flow.yaml", "wip")
    write_flow(tmp_path, "old.flow.yaml", "old")
    write(tmp_path, ".airflowignore", "drafts/\nold.*\n")
    dags, _ = _load(tmp_path)
    assert list(dags) == ["keep"]


def test_airflowignore_regexp_syntax_follows_airflow_config(tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW__CORE__DAG_IGNORE_FILE_SYNTAX", "regexp")
    write_flow(tmp_path, "keep.flow.yaml", "keep")
    write_flow(tmp_path, "sub/skip_me.flow.yaml", "skip")
    write(tmp_path, ".airflowignore", "skip_.*\n")
    dags, _ = _load(tmp_path)
    assert list(dags) == ["keep"]


# --------------------------------------------------------------------------- error isolation


def test_an_invalid_file_becomes_a_marker_dag_and_hides_nothing(tmp_path):
    write_flow(tmp_path, "good.flow.yaml", "good")
    bad = write_flow(tmp_path, "sub/bad.flow.yaml", "bad", start_at="Nope")
    dags, _ = _load(tmp_path)
    marker_id = "cloudflow_invalid__sub.bad.flow.yaml"
    assert sorted(dags) == [marker_id, "good"]
    marker = dags[marker_id]
    assert marker.tags == {MARKER_TAG}
    assert marker.dag_display_name == "⚠ INVALID sub/bad.flow.yaml"  # what the DAG list shows
    assert f"{bad}:4:1: CF-E201" in marker.doc_md
    assert "CF-E201" in marker.description
    from airflow.sdk.exceptions import AirflowFailException

    with pytest.raises(AirflowFailException, match="CF-E201"):
        marker.get_task("report_errors").execute({})


def test_marker_ids_keep_readable_paths_and_hash_unsafe_characters(tmp_path):
    assert marker_dag_id(tmp_path / "a/b.flow.yaml", tmp_path) == "cloudflow_invalid__a.b.flow.yaml"
    odd = marker_dag_id(tmp_path / "my flow.flow.yaml", tmp_path)
    assert odd.startswith("cloudflow_invalid__my_flow.flow.yaml_") and len(odd) == len("cloudflow_invalid__my_flow.flow.yaml_") + 8
    assert odd != marker_dag_id(tmp_path / "my_flow.flow.yaml", tmp_path)


def test_two_files_with_one_dag_id_are_both_invalid_and_name_each_other(tmp_path):
    one = write_flow(tmp_path, "one.flow.yaml", "dup")
    two = write_flow(tmp_path, "two.flow.yaml", "dup")
    dags, _ = _load(tmp_path)
    assert sorted(dags) == ["cloudflow_invalid__one.flow.yaml", "cloudflow_invalid__two.flow.yaml"]
    assert f"{one}:2:1: CF-E500 dag_id 'dup'" in dags["cloudflow_invalid__one.flow.yaml"].doc_md
    assert str(two) in dags["cloudflow_invalid__one.flow.yaml"].doc_md
    assert str(one) in dags["cloudflow_invalid__two.flow.yaml"].doc_md


def test_a_failing_builder_marks_only_its_file(tmp_path):
    write_flow(tmp_path, "ok.flow.yaml", "ok")
    write_flow(tmp_path, "boom.flow.yaml", "boom")

    def builder(machine, options):
        if machine.name == "boom":
            raise RuntimeError("planner exploded")
        return empty_builder(machine, options)

    dags, _ = _load(tmp_path, builder=builder)
    assert sorted(dags) == ["cloudflow_invalid__boom.flow.yaml", "ok"]
    assert "CF-E501 cannot build the DAG: RuntimeError: planner exploded" in dags["cloudflow_invalid__boom.flow.yaml"].doc_md


def test_an_invalid_sidecar_makes_its_flow_invalid_with_the_sidecar_line(tmp_path):
    write_flow(tmp_path, "x.flow.yaml", "x")
    sidecar = write(tmp_path, "x.airflow.yaml", "tags: [a]\nretrys: 2\n")
    dags, _ = _load(tmp_path)
    assert list(dags) == ["cloudflow_invalid__x.flow.yaml"]
    assert f"{sidecar}:2:1: CF-E112 unknown settings key 'retrys' (did you mean 'retries'?)" in dags[
        "cloudflow_invalid__x.flow.yaml"
    ].doc_md


def test_sidecar_and_folder_defaults_reach_the_builder(tmp_path):
    flow = write_flow(tmp_path, "team/x.flow.yaml", "x")
    write(tmp_path, "cloudflow.defaults.yaml", "owner: ops\nretries: 1\n")
    write(tmp_path, "team/x.airflow.yaml", "retries: 3\ntags: [t]\n")
    builder = RecordingBuilder()
    _load(tmp_path, builder=builder)
    options = builder.options["x"]
    assert (options.owner, options.retries, options.tags, options.source_path) == ("ops", 3, ("t",), str(flow))


# --------------------------------------------------------------------------- strict mode


def test_strict_mode_raises_one_error_listing_every_bad_file(tmp_path):
    write_flow(tmp_path, "good.flow.yaml", "good")
    bad1 = write_flow(tmp_path, "bad1.flow.yaml", "bad1", start_at="Nope")
    bad2 = write(tmp_path, "bad2.flow.yaml", "Type: [unclosed\n")
    namespace: dict = {}
    with pytest.raises(InvalidDefinitionsError) as info:
        load_flows(namespace, tmp_path, strict=True, builder=empty_builder)
    text = str(info.value)
    assert text.startswith("2 invalid CloudFlow definition file(s):")
    assert f"{bad1}:4:1: CF-E201" in text and f"{bad2}:" in text and "CF-E100" in text
    assert info.value.files == [str(bad1), str(bad2)]
    assert namespace == {}


def test_strict_mode_defaults_to_the_cloudflow_config_option(tmp_path, monkeypatch):
    write_flow(tmp_path, "bad.flow.yaml", "bad", start_at="Nope")
    monkeypatch.setenv("AIRFLOW__CLOUDFLOW__STRICT_LOADING", "True")
    with pytest.raises(InvalidDefinitionsError):
        load_flows({}, tmp_path, builder=empty_builder)
    monkeypatch.setenv("AIRFLOW__CLOUDFLOW__STRICT_LOADING", "False")
    assert list(load_flows({}, tmp_path, builder=empty_builder)) == ["cloudflow_invalid__bad.flow.yaml"]


# --------------------------------------------------------------------------- worker parses and caching


def _record_loads(monkeypatch) -> list[str]:
    seen: list[str] = []
    original = loader.load_file

    def recording(path, root):
        seen.append(path.name)
        return original(path, root)

    monkeypatch.setattr(loader, "load_file", recording)
    return seen


def test_a_worker_parse_loads_and_builds_only_the_requested_flow(tmp_path, monkeypatch):
    for name in ("a", "b", "c"):
        write_flow(tmp_path, f"{name}.flow.yaml", name)
    write_flow(tmp_path, "broken.flow.yaml", "broken", start_at="Nope")
    seen = _record_loads(monkeypatch)
    builder = RecordingBuilder()
    monkeypatch.setenv(PARSING_ENV, "b")
    dags, _ = _load(tmp_path, builder=builder)
    assert list(dags) == ["b"] and builder.built == ["b"] and seen == ["b.flow.yaml"]


def test_a_worker_parse_of_a_marker_dag_rebuilds_only_that_marker(tmp_path, monkeypatch):
    write_flow(tmp_path, "a.flow.yaml", "a")
    write_flow(tmp_path, "bad.flow.yaml", "bad", start_at="Nope")
    seen = _record_loads(monkeypatch)
    monkeypatch.setenv(PARSING_ENV, "cloudflow_invalid__bad.flow.yaml")
    dags, _ = _load(tmp_path)
    assert list(dags) == ["cloudflow_invalid__bad.flow.yaml"] and seen == ["bad.flow.yaml"]


def test_a_worker_parse_loads_files_whose_name_cannot_be_sniffed(tmp_path, monkeypatch):
    write(tmp_path, "flowstyle.flow.yaml", '{"Type": "StateMachine", "Name": "fs", "SpecVersion": "v1", '
          '"StartAt": "A", "States": [{"Type": "Pass", "Name": "A", "End": true}]}\n')
    write_flow(tmp_path, "other.flow.yaml", "other")
    assert sniff_dag_id(tmp_path / "flowstyle.flow.yaml") is None
    assert sniff_dag_id(tmp_path / "other.flow.yaml") == "other"
    seen = _record_loads(monkeypatch)
    monkeypatch.setenv(PARSING_ENV, "fs")
    dags, _ = _load(tmp_path)
    assert list(dags) == ["fs"] and seen == ["flowstyle.flow.yaml"]


def test_a_worker_parse_falls_back_to_everything_when_sniffing_misleads(tmp_path, monkeypatch):
    write_flow(tmp_path, "real.flow.yaml", "real")
    write_flow(tmp_path, "other.flow.yaml", "other")
    monkeypatch.setattr(loader, "sniff_dag_id", lambda path: "decoy")  # every sniff is wrong
    seen = _record_loads(monkeypatch)
    monkeypatch.setenv(PARSING_ENV, "real")
    dags, _ = _load(tmp_path)
    assert list(dags) == ["real"] and sorted(seen) == ["other.flow.yaml", "real.flow.yaml"]


def test_a_worker_parse_still_refuses_a_colliding_dag_id(tmp_path, monkeypatch):
    write_flow(tmp_path, "one.flow.yaml", "dup")
    write_flow(tmp_path, "two.flow.yaml", "dup")
    monkeypatch.setenv(PARSING_ENV, "dup")
    dags, _ = _load(tmp_path)
    assert dags == {}


def test_unchanged_files_are_not_parsed_again(tmp_path, monkeypatch):
    import airflow_cloudflow.dialects as dialects

    calls: list[str | None] = []
    original = dialects.load_definition_text

    def counting(text, file=None):
        calls.append(Path(file).name)
        return original(text, file)

    monkeypatch.setattr(dialects, "load_definition_text", counting)
    write_flow(tmp_path, "a.flow.yaml", "a")
    b = write_flow(tmp_path, "b.flow.yaml", "b")
    _load(tmp_path)
    assert sorted(calls) == ["a.flow.yaml", "b.flow.yaml"]
    calls.clear()
    _load(tmp_path)
    assert calls == []
    b.write_text(flow_text("b2"))
    dags, _ = _load(tmp_path)
    assert calls == ["b.flow.yaml"] and sorted(dags) == ["a", "b2"]


def test_loading_opens_no_network_connection(tmp_path, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise AssertionError("network I/O at parse time")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    dags = load_flows({}, REPO_DAGS, strict=True)  # the real builder, the example flows
    assert sorted(dags) == ["choice_retry", "hello", "orders_map", "orders_s3_map"]


# --------------------------------------------------------------------------- through Airflow's DagBag


def _dagbag(folder: Path):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(folder), safe_mode=True)


def _install_loader(folder: Path, source: str = LOADER_SOURCE) -> Path:
    return write(folder, "cloudflow_dags.py", source)


def test_dagbag_shows_bad_files_as_marker_dags_not_import_errors(tmp_path):
    _install_loader(tmp_path)
    write(tmp_path, "hello.flow.yaml", (REPO_DAGS / "examples" / "hello.flow.yaml").read_text())
    write_flow(tmp_path, "bad.flow.yaml", "bad", start_at="Nope")
    bag = _dagbag(tmp_path)
    assert bag.import_errors == {}
    assert sorted(bag.dag_ids) == ["cloudflow_invalid__bad.flow.yaml", "hello"]
    assert bag.dags["hello"].fileloc == str(tmp_path / "cloudflow_dags.py")


def test_dagbag_in_strict_mode_reports_the_loader_file_as_an_import_error(tmp_path, monkeypatch):
    loader_file = _install_loader(tmp_path)
    write_flow(tmp_path, "good.flow.yaml", "good")
    write_flow(tmp_path, "bad1.flow.yaml", "bad1", start_at="Nope")
    write_flow(tmp_path, "sub/bad2.flow.yaml", "bad2", next_="Nowhere")
    monkeypatch.setenv("AIRFLOW__CLOUDFLOW__STRICT_LOADING", "True")
    bag = _dagbag(tmp_path)
    assert bag.dag_ids == []
    (error,) = bag.import_errors.values()
    assert list(bag.import_errors) == [str(loader_file)]
    assert "bad1.flow.yaml:4:1: CF-E201" in error and "bad2.flow.yaml" in error and "CF-E202" in error


def test_dagbag_keeps_no_half_built_dag_from_a_failing_builder(tmp_path):
    _install_loader(tmp_path, textwrap.dedent(
        """\
        from airflow.sdk import DAG
        from airflow.providers.standard.operators.empty import EmptyOperator
        from airflow_cloudflow.providers.loader import load_flows

        def half_builder(machine, options):
            with DAG(machine.name, schedule=None):
                EmptyOperator(task_id="started")
                if machine.name == "boom":
                    raise RuntimeError("half way")
            return DAG(machine.name + "_done", schedule=None)

        load_flows(globals(), strict=False, builder=half_builder)
        """
    ))
    write_flow(tmp_path, "boom.flow.yaml", "boom")
    write_flow(tmp_path, "fine.flow.yaml", "fine")
    bag = _dagbag(tmp_path)
    assert bag.import_errors == {}
    assert "boom" not in bag.dag_ids
    assert "cloudflow_invalid__boom.flow.yaml" in bag.dag_ids and "fine_done" in bag.dag_ids


def test_the_repository_dags_folder_imports_clean_with_the_real_builder():
    bag = _dagbag(REPO_DAGS)
    assert bag.import_errors == {}
    assert sorted(bag.dag_ids) == ["choice_retry", "hello", "orders_map", "orders_s3_map"]
    orders = bag.dags["orders_map"]
    assert any(t.task_id.endswith("__process") for t in orders.tasks)  # the distributed Map was planned


def test_every_example_flow_lints_without_errors_or_warnings():
    from airflow_cloudflow.dialects import lint_path

    examples = find_definitions(REPO_DAGS)
    assert {p.name for p in examples} == {"hello.flow.yaml", "orders_map.flow.yaml", "choice_retry.flow.yaml",
                                          "orders_s3_map.asl.yaml"}
    assert {str(p): [str(i) for i in lint_path(p)] for p in examples} == {str(p): [] for p in examples}


def test_every_example_sidecar_is_valid_and_points_at_existing_files():
    from airflow_cloudflow.providers.sidecar import load_options

    choice = load_options(REPO_DAGS / "examples" / "choice_retry.flow.yaml", REPO_DAGS)
    assert Path(choice.mocks).is_file()
    orders = load_options(REPO_DAGS / "examples" / "orders_map.flow.yaml", REPO_DAGS)
    assert orders.local_store == str((REPO_DAGS / "examples" / "store").resolve())
    assert orders.default_input == {"bucket": "demo-bucket", "object": "orders.csv", "currency": "EUR"}
    assert (Path(orders.local_store) / "demo-bucket" / orders.default_input["object"]).is_file()
    s3_orders = load_options(REPO_DAGS / "examples" / "orders_s3_map.asl.yaml", REPO_DAGS)
    assert (Path(s3_orders.local_store) / "demo-bucket" / s3_orders.default_input["key"]).is_file()


def test_a_subfolder_with_its_own_loader_belongs_to_that_loader(tmp_path):
    write_flow(tmp_path, "orders.flow.yaml", "orders")
    private = tmp_path / "cloudflow-run-1"
    write_flow(private, "orders.flow.yaml", "orders")  # the copy `run --engine airflow` makes
    (private / "cloudflow_dags.py").write_text(LOADER_SOURCE)
    assert find_definitions(tmp_path) == [tmp_path / "orders.flow.yaml"]
    assert find_definitions(private) == [private / "orders.flow.yaml"]


# --------------------------------------------------------------------------- dag_ids of generic file names

ASL_PASS = '{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}\n'


def test_one_machine_per_folder_under_a_generic_name_each_loads_with_its_path_id(tmp_path):
    write(tmp_path, "orders/statemachine/statemachine.asl.json", ASL_PASS)
    write(tmp_path, "billing/statemachine/statemachine.asl.json", ASL_PASS)
    write(tmp_path, "a/definition.asl.json", ASL_PASS)
    write(tmp_path, "b/definition.asl.json", ASL_PASS)
    write(tmp_path, "unique/report.asl.json", ASL_PASS)
    dags, _ = _load(tmp_path)
    assert sorted(dags) == ["a.definition", "b.definition", "billing.statemachine.statemachine",
                            "orders.statemachine.statemachine", "report"]


def test_the_path_id_is_the_same_on_a_worker_that_builds_one_dag(tmp_path, monkeypatch):
    write(tmp_path, "a/definition.asl.json", ASL_PASS)
    write(tmp_path, "b/definition.asl.json", ASL_PASS)
    builder = RecordingBuilder()
    monkeypatch.setenv(PARSING_ENV, "b.definition")
    dags, _ = _load(tmp_path, builder=builder)
    assert list(dags) == ["b.definition"] and builder.built == ["definition"]


def test_a_sidecar_dag_id_overrides_the_derived_one(tmp_path, monkeypatch):
    write(tmp_path, "a/definition.asl.json", ASL_PASS)
    write(tmp_path, "a/definition.airflow.yaml", "dag_id: orders_v2\n")
    write(tmp_path, "b/definition.asl.json", ASL_PASS)
    write_flow(tmp_path, "c/x.flow.yaml", "x")
    write(tmp_path, "c/x.airflow.yaml", "dag_id: x.renamed\n")
    dags, _ = _load(tmp_path)
    assert sorted(dags) == ["definition", "orders_v2", "x.renamed"]
    monkeypatch.setenv(PARSING_ENV, "x.renamed")  # a worker finds the flow behind a sidecar dag_id
    loader.clear_caches()
    assert list(_load(tmp_path)[0]) == ["x.renamed"]


def test_a_collision_that_remains_names_both_files_and_says_how_to_fix_it(tmp_path):
    one = write(tmp_path, "a/definition.asl.json", ASL_PASS)
    write(tmp_path, "a/definition.airflow.yaml", "dag_id: same\n")
    two = write(tmp_path, "b/other.asl.json", ASL_PASS)
    write(tmp_path, "b/other.airflow.yaml", "dag_id: same\n")
    dags, _ = _load(tmp_path)
    assert sorted(dags) == ["cloudflow_invalid__a.definition.asl.json", "cloudflow_invalid__b.other.asl.json"]
    doc = dags["cloudflow_invalid__a.definition.asl.json"].doc_md
    assert f"{one}:1:1: CF-E500 dag_id 'same'" in doc and str(two) in doc and "set 'dag_id:' in a sidecar" in doc


def test_a_cloudflow_name_keeps_its_id_and_the_same_named_asl_file_moves_to_its_path(tmp_path):
    write_flow(tmp_path, "orders.flow.yaml", "orders")
    write(tmp_path, "aws/orders.asl.json", ASL_PASS)
    dags, _ = _load(tmp_path)
    assert sorted(dags) == ["aws.orders", "orders"]


def test_dag_id_in_folder_defaults_is_refused(tmp_path):
    write(tmp_path, "a/definition.asl.json", ASL_PASS)
    defaults = write(tmp_path, "cloudflow.defaults.yaml", "dag_id: shared\n")
    dags, _ = _load(tmp_path)
    assert f"{defaults}:1:1: CF-E112 'dag_id' belongs in a definition's sidecar" in dags[
        "cloudflow_invalid__a.definition.asl.json"].doc_md


# --------------------------------------------------------------------------- definition substitutions

ASL_TEMPLATE = ('{"StartAt": "T", "States": {"T": {"Type": "Task", "End": true,\n'
                '  "Resource": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${Fn}"}}}\n')


def test_substitutions_from_folder_defaults_and_sidecar_fill_the_definition(tmp_path):
    write(tmp_path, "cloudflow.defaults.yaml",
          "definition_substitutions:\n  AWS::Region: cn-north-1\n  AWS::AccountId: '123456789012'\n  Fn: default\n")
    write(tmp_path, "team/orders.asl.json", ASL_TEMPLATE)
    write(tmp_path, "team/orders.airflow.yaml", "definition_substitutions:\n  Fn: charge\n")
    builder = RecordingBuilder()
    dags, _ = _load(tmp_path, builder=builder)
    assert list(dags) == ["orders"]
    assert '"arn:aws-cn:lambda:cn-north-1:123456789012:function:charge"' in dags["orders"].doc_md
    assert builder.options["orders"].definition_substitutions == {
        "AWS::Region": "cn-north-1", "AWS::AccountId": "123456789012", "Fn": "charge"}


def test_an_unresolved_placeholder_makes_a_marker_saying_where_to_supply_it(tmp_path):
    path = write(tmp_path, "orders.asl.json", ASL_TEMPLATE)
    write(tmp_path, "orders.airflow.yaml", "definition_substitutions:\n  Fn: f\n  AWS::AccountId: '1'\n")
    dags, _ = _load(tmp_path)
    doc = dags["cloudflow_invalid__orders.asl.json"].doc_md
    assert f"{path}:2:45: CF-E130 unresolved substitution '${{AWS::Region}}': give it a value under " \
           "'definition_substitutions:' in orders.airflow.yaml" in doc
    assert doc.count("CF-E130") == 1


def test_a_worker_loads_a_sidecar_flow_only_when_its_sidecar_names_a_dag_id(tmp_path, monkeypatch):
    write_flow(tmp_path, "a.flow.yaml", "a")
    write(tmp_path, "a.airflow.yaml", "tags: [x]\n")
    write_flow(tmp_path, "b.flow.yaml", "b")
    write(tmp_path, "b.airflow.yaml", "dag_id: b_prod\n")
    write_flow(tmp_path, "c.flow.yaml", "c")
    seen = _record_loads(monkeypatch)
    monkeypatch.setenv(PARSING_ENV, "c")
    assert list(_load(tmp_path)[0]) == ["c"] and sorted(seen) == ["b.flow.yaml", "c.flow.yaml"]
