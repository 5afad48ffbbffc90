"""A called function for redrive tests (served by ``tests.integrations.local_http.LocalHttpServer``):
buggy at first, it fails on negative amounts; once ``fixed``, it charges every order. It counts the
calls per order id, so a test can tell which children ran again."""

from __future__ import annotations

import json


class ChargeFunction:
    def __init__(self) -> None:
        self.fixed = False
        self.calls: dict[str, int] = {}
        self.url = ""

    def __call__(self, request):
        from tests.integrations.local_http import Reply

        order = json.loads(request.body)
        self.calls[order["id"]] = self.calls.get(order["id"], 0) + 1
        if order["amount"] < 0 and not self.fixed:
            return Reply(500, {"Content-Type": "text/plain"}, b"negative amounts are not supported")
        return Reply(200, {"Content-Type": "application/json"}, json.dumps({"charged": order["amount"]}).encode())
