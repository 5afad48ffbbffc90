"""Callables for Python:Call tests (only importable when the allow-list names this package)."""


def add(a, b):
    return {"sum": a + b}


def boom():
    raise ValueError("bad input")


def not_json():
    return {1, 2}


def echo_token(task_token=None):
    return {"token": task_token}


_private = add


from subprocess import run as reexported_run  # noqa: E402,F401  (must be refused: not defined here)
