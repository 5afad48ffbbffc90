"""Python:Call: the allow-list is checked before any import; results and errors map to Task data."""

from __future__ import annotations

import sys

import pytest

from airflow_cloudflow.exceptions import FlowError
from airflow_cloudflow.integrations.extensions import ALLOWED_ENV, PythonCall, check_allowed
from airflow_cloudflow.runtime.ports import TaskCall

ALLOWED = ("tests.integrations.pkg_allowed",)


def call(path, kwargs=None, allowed=ALLOWED):
    return PythonCall(allowed)(TaskCall("Python:Call", {"callable": path, "kwargs": kwargs or {}}, state_name="P"))


def test_allowed_callable_runs_with_kwargs():
    assert call("tests.integrations.pkg_allowed.add", {"a": 2, "b": 3}) == {"sum": 5}


def test_path_outside_allow_list_is_refused_before_import():
    sys.modules.pop("json.tool", None)
    with pytest.raises(FlowError) as err:
        call("json.tool.main")
    assert err.value.code == "Extension.NotAllowed" and "allowed_modules" in err.value.detail
    assert "json.tool" not in sys.modules
    with pytest.raises(FlowError):
        call("tests.integrations.pkg_allowed_evil.add")  # prefix must match whole module names
    with pytest.raises(FlowError) as err:
        call("os.system", {"command": "true"}, allowed=())
    assert "nothing" in err.value.detail


@pytest.mark.parametrize("path", ["tests.integrations.pkg_allowed._private", "add", "a.b; import os", 5])
def test_malformed_or_private_paths_are_refused(path):
    with pytest.raises(FlowError) as err:
        call(path)
    assert err.value.code == "Extension.NotAllowed"


def test_errors_of_the_callable_and_bad_results():
    with pytest.raises(FlowError) as err:
        call("tests.integrations.pkg_allowed.boom")
    assert err.value.code == "Python.ValueError" and err.value.detail == "bad input"
    with pytest.raises(FlowError) as err:
        call("tests.integrations.pkg_allowed.not_json")
    assert err.value.code == "Extension.ResultNotJson"
    with pytest.raises(FlowError) as err:
        call("tests.integrations.pkg_allowed.missing")
    assert err.value.code == "Extension.NotFound"


def test_allow_list_from_environment(monkeypatch):
    monkeypatch.setenv(ALLOWED_ENV, " other , tests.integrations.pkg_allowed")
    out = PythonCall()(TaskCall("Python:Call", {"callable": "tests.integrations.pkg_allowed.add", "kwargs": {"a": 1, "b": 1}}))
    assert out == {"sum": 2}
    monkeypatch.delenv(ALLOWED_ENV)
    with pytest.raises(FlowError):
        PythonCall()(TaskCall("Python:Call", {"callable": "tests.integrations.pkg_allowed.add"}))


def test_check_allowed_splits_module_and_name():
    assert check_allowed("a.b.c", ("a",), "x") == ("a.b", "c")
    assert check_allowed("a.b.c", ("a.b",), "x") == ("a.b", "c")


def test_a_name_imported_into_an_allowed_module_is_refused():
    with pytest.raises(FlowError) as err:
        PythonCall(allowed=("tests.integrations.pkg_allowed",))(
            TaskCall("Python:Call", {"callable": "tests.integrations.pkg_allowed.reexported_run",
                                     "kwargs": {"args": ["true"]}})
        )
    assert err.value.code == "Extension.NotAllowed" and "subprocess" in err.value.detail
