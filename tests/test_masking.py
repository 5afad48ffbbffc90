"""``mask_secrets``: own secrets by value, URL userinfo, credential-named headers and parameters."""

import pytest

from airflow_cloudflow.masking import MASK, mask_secrets


@pytest.mark.parametrize("text, leaked", [
    ('Could not connect to "http://user:pw-canary@127.0.0.1:9/2015-03-31/functions"', "pw-canary"),
    ('{"X-Amz-Security-Token": "tok-canary", "Host": "h"}', "tok-canary"),
    ("{'x-acs-security-token': 'tok-canary', 'Host': 'h'}", "tok-canary"),
    ("Authorization: AWS4-HMAC-SHA256 Credential=AKIA/x, Signature=sig-canary\nHost: h", "sig-canary"),
    ("GET /o?X-Amz-Signature=sig-canary&a=1", "sig-canary"),
    ("<Error><SecurityToken>tok-canary</SecurityToken></Error>", "tok-canary"),
    ("login failed: password=pw-canary; retry", "pw-canary"),
])
def test_credential_shaped_values_are_masked(text, leaked):
    masked = mask_secrets(text)
    assert leaked not in masked and MASK in masked


def test_own_secrets_are_masked_by_value_anywhere_but_short_values_are_not():
    text = "echo wJalr/canary+secret= then k then user data"
    assert mask_secrets(text, ["wJalr/canary+secret=", "k", None]) == "echo *** then k then user data"


def test_ordinary_error_text_is_unchanged():
    text = "SignatureDoesNotMatch: The request signature we calculated does not match (tokens: 5) at https://host/path"
    assert mask_secrets(text) == text
