"""dynamo_error_code: the DynamoDB error behind whatever botocore or pynamodb raised."""
from __future__ import annotations

from botocore.exceptions import ClientError, ReadTimeoutError
from pynamodb.exceptions import PutError, TransactWriteError

from chalicelib.errors import dynamo_error_code


def _client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}}, "PutItem")


def test_a_client_errors_own_code() -> None:
    assert dynamo_error_code(_client_error("ProvisionedThroughputExceededException")) == \
        "ProvisionedThroughputExceededException"


def test_the_code_behind_a_pynamodb_error() -> None:
    put = PutError("failed", cause=_client_error("ConditionalCheckFailedException"))
    assert dynamo_error_code(put) == "ConditionalCheckFailedException"
    nested = TransactWriteError("failed", cause=PutError("inner", cause=_client_error("X")))
    assert dynamo_error_code(nested) == "X"


def test_none_when_nothing_says_a_code() -> None:
    assert dynamo_error_code(PutError("failed", cause=ReadTimeoutError(endpoint_url="u"))) is None
    assert dynamo_error_code(ValueError("plain")) is None
    weird = _client_error("X")
    weird.response = {"Error": "not a dict"}  # type: ignore[typeddict-item]
    assert dynamo_error_code(PutError("failed", cause=weird)) is None
