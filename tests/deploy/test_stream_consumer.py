"""The stream consumer's deployment: its function, one event source mapping per
stream table, the on-failure queue and the stream reads in its own policy
(the layer both functions load: test_powertools_layer.py).
"""
from __future__ import annotations

from typing import Any

import pytest

from chalicelib.store import models
from tests.deploy.cfn import FUNCTIONS, function, policy, resources, tables_by_suffix
from tests.deploy.conftest import Packaged
from tests.deploy.iam import allowed

STREAM_SUFFIXES = {models.table_for(m).suffix for m in models.STREAM_TABLES}
# (BatchSize, window s) per stream (bench/rank_batching.py measured the ledger's,
# bench/cost.py the others'): the guards' feed the sites' pressure, so they wait
# 5 s at most (each batch's fixed 8 write units spread over 5 s of shares); ranks
# trail by up to 60 s and captchas verified by up to 30 s (docs/contract.md §6).
BATCHING = {"GuardsTable": (1000, 5), "LedgerTable": (1000, 60), "TokensTable": (1000, 30)}


def _mappings(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Event source mappings by the logical id of the table whose stream they read."""
    out = {}
    for res in resources(template, "AWS::Lambda::EventSourceMapping").values():
        table_logical, attribute = res["Properties"]["EventSourceArn"]["Fn::GetAtt"]
        assert attribute == "StreamArn"
        assert table_logical not in out, f"two mappings on {table_logical}'s stream"
        out[table_logical] = res
    return out


def test_chalice_packages_the_apps_stream_consumer(packaged: Packaged) -> None:
    from app import app

    consumer, verify = sorted(app.pure_lambda_functions, key=lambda f: f.name)
    assert (verify.name, verify.handler_string) == ("verify", "app.verify_handler")
    props = function(packaged.sam, "Streams")
    # Chalice names the resource after the function and points it at the app's handler.
    assert consumer.name == "streams"
    assert props["Handler"] == consumer.handler_string == "app.stream_consumer"
    assert props["FunctionName"] == FUNCTIONS["Streams"]
    assert props["CodeUri"] == function(packaged.sam)["CodeUri"]  # the same bundle


def test_every_stream_table_feeds_the_consumer_and_nothing_else(packaged: Packaged) -> None:
    tables = tables_by_suffix(packaged.sam)
    mappings = _mappings(packaged.sam)
    assert set(mappings) == {tables[s]["Logical"] for s in STREAM_SUFFIXES}
    for res in mappings.values():
        assert res["Properties"]["FunctionName"] == {"Ref": "Streams"}


def test_a_failed_batch_is_redelivered_whole_until_it_succeeds(packaged: Packaged) -> None:
    """The consumer counts a batch once by a marker keyed by its first record
    (stats.py): a retry must start at the same record, so no bisecting and no
    partial-batch answers; a failing batch blocks its shard (and alarms)
    rather than being skipped, and what expires unprocessed is reported."""
    for table, res in _mappings(packaged.sam).items():
        props = res["Properties"]
        assert props["StartingPosition"] == "TRIM_HORIZON", table
        assert (props["BatchSize"], props["MaximumBatchingWindowInSeconds"]) == BATCHING[table]
        assert props["BisectBatchOnFunctionError"] is False
        assert "FunctionResponseTypes" not in props
        assert props.get("ParallelizationFactor", 1) == 1
        assert props["MaximumRetryAttempts"] == -1
        # Given up (and reported) only just before the records leave the stream.
        assert 20 * 3600 <= props["MaximumRecordAgeInSeconds"] < 24 * 3600
        assert "FilterCriteria" not in props  # the consumer sees every record, as in tests
        assert props["DestinationConfig"] == {"OnFailure": {
            "Destination": {"Fn::GetAtt": ["StreamsFailureQueue", "Arn"]}}}
        assert "redelivered whole" in res["Metadata"]["Comment"]


def test_the_failure_queue_keeps_reports_long_and_encrypted(packaged: Packaged) -> None:
    queue = packaged.sam["Resources"]["StreamsFailureQueue"]
    assert queue["Type"] == "AWS::SQS::Queue"
    props = queue["Properties"]
    assert props["QueueName"] == "workproof-prod-streams-failures"
    assert props["MessageRetentionPeriod"] == 14 * 24 * 3600  # SQS's maximum
    assert props["SqsManagedSseEnabled"] is True


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_only_the_consumer_reads_the_streams_and_reports_failures(stage: str) -> None:
    consumer, api = policy(f"policy-{stage}-streams.json"), policy(f"policy-{stage}.json")
    queue = f"arn:aws:sqs:us-east-1:123456789012:workproof-{stage}-streams-failures"
    stream_actions = ("dynamodb:DescribeStream", "dynamodb:GetRecords",
                      "dynamodb:GetShardIterator", "dynamodb:ListStreams")
    for suffix in ("sites", "ledger", "tokens", "guards", "stats", "links"):
        stream = (f"arn:aws:dynamodb:us-east-1:123456789012:table/workproof-{stage}-{suffix}"
                  "/stream/2026-11-30T14:43:12.000")
        for action in stream_actions:
            assert allowed(consumer, action, stream) is (suffix in STREAM_SUFFIXES), \
                (action, suffix)
            assert not allowed(api, action, stream)
    assert allowed(consumer, "sqs:SendMessage", queue)
    assert not allowed(api, "sqs:SendMessage", queue)
    assert not allowed(consumer, "sqs:ReceiveMessage", queue)
    secret = f"arn:aws:secretsmanager:us-east-1:123456789012:secret:workproof-{stage}/signing-key-AbCdEf"
    assert allowed(api, "secretsmanager:GetSecretValue", secret)
    assert not allowed(consumer, "secretsmanager:GetSecretValue", secret)
