"""What an operator watches: the alarms and the dashboard of the packaged stack.

The app's own metrics (CloudWatch embedded metric format, namespace
`Workproof`) are a contract between the app and this template: the alarms
read exactly the series in APP_METRICS (name -> dimension names besides
`service=workproof`), as deploy/README.md lists them.
"""
from __future__ import annotations

import json
from typing import Any

from tests.deploy.cfn import FUNCTIONS, ROOT, function, resources, substitute, substitutions
from tests.deploy.conftest import Packaged

NAMESPACE = "Workproof"
APP_METRICS = {
    "SharesAccepted": set(), "SharesRefused": {"error"}, "HashesCredited": set(),
    "Verifies": set(), "Withdrawals": set(), "DynamoRetries": set(), "DynamoThrottles": set(),
}
# Refusals only a malformed request gets: probes and broken clients, not miners.
# Not a miner's refusal: a malformed request, or a deployment without its
# signing key (`not_configured`, which the Errors alarms and the log show).
REQUEST_SHAPE_ERRORS = {"bad_request", "wrong_method", "missing_input", "not_configured"}
# Not a refused share: the submit is told to wait and its job stays usable (the
# widget and miner resend it), so counting it would count the share twice.
NOT_REFUSALS = {"busy"}


def _alarm_metrics(props: dict[str, Any]) -> list[dict[str, Any]]:
    """Every metric an alarm reads, as {Namespace, MetricName, Dimensions}."""
    if "MetricName" in props:
        return [{k: props[k] for k in ("Namespace", "MetricName", "Dimensions")}]
    return [m["MetricStat"]["Metric"] for m in props["Metrics"] if "MetricStat" in m]


def _alarms(packaged: Packaged) -> dict[str, dict[str, Any]]:
    return {k: v["Properties"] for k, v in resources(packaged.sam, "AWS::CloudWatch::Alarm").items()}


def test_alarms_cover_every_function_the_api_and_every_table(packaged: Packaged) -> None:
    metrics, table_refs, functions = set(), set(), set()
    for props in _alarms(packaged).values():
        for metric in _alarm_metrics(props):
            metrics.add((metric["Namespace"], metric["MetricName"]))
            for dim in metric["Dimensions"]:
                if dim["Name"] == "TableName":
                    table_refs.add(dim["Value"]["Ref"])
                if dim["Name"] == "FunctionName":
                    functions.add((metric["MetricName"], dim["Value"]["Ref"]))
    assert {("Errors", "APIHandler"), ("Throttles", "APIHandler"), ("Errors", "Streams"),
            ("IteratorAge", "Streams"), ("Errors", "Verify"), ("Throttles", "Verify")} <= functions
    assert {name for _metric, name in functions} == set(FUNCTIONS)
    assert {("AWS/DynamoDB", "ReadThrottleEvents"), ("AWS/DynamoDB", "WriteThrottleEvents"),
            ("AWS/ApiGateway", "5XXError"), (NAMESPACE, "DynamoThrottles"),
            (NAMESPACE, "SharesAccepted"), (NAMESPACE, "SharesRefused"),
            ("AWS/SQS", "ApproximateNumberOfMessagesVisible")} <= metrics
    assert table_refs == set(resources(packaged.sam, "AWS::DynamoDB::Table"))


def test_every_alarm_notifies_the_topic_when_given(packaged: Packaged) -> None:
    topic = {"Fn::If": ["HasAlarmTopic", {"Ref": "AlarmTopicArn"}, {"Ref": "AlarmTopic"}]}
    wanted = {"Fn::If": ["AlarmsNotify", [topic], {"Ref": "AWS::NoValue"}]}
    for name, props in _alarms(packaged).items():
        assert props["AlarmActions"] == props["OKActions"] == wanted, name
        assert props["TreatMissingData"] == "notBreaching", name
        assert props["AlarmDescription"].startswith("Workproof: "), name


def test_app_metrics_are_read_with_the_contracts_dimensions(packaged: Packaged) -> None:
    seen = set()
    for name, props in _alarms(packaged).items():
        for metric in _alarm_metrics(props):
            if metric["Namespace"] != NAMESPACE:
                continue
            dims = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
            assert dims.pop("service") == "workproof", name
            assert set(dims) == APP_METRICS[metric["MetricName"]], (name, metric)
            seen.add(metric["MetricName"])
    assert {"SharesAccepted", "SharesRefused", "DynamoThrottles"} <= seen


def test_refusal_rate_alarm_counts_every_refusal_a_miner_can_get(packaged: Packaged) -> None:
    spec = json.loads((ROOT / "chalicelib" / "openapi.json").read_text())
    submit = spec["components"]["responses"]["PowSubmit"]["content"]["application/json"]
    (failure,) = [s for s in submit["schema"]["oneOf"] if "error" in s["properties"]]
    codes = set(failure["properties"]["error"]["enum"])
    props = _alarms(packaged)["ShareRefusalRateAlarm"]
    by_id = {m["Id"]: m for m in props["Metrics"]}
    refused = {}
    for metric_id, query in by_id.items():
        metric = query.get("MetricStat", {}).get("Metric", {})
        if metric.get("MetricName") == "SharesRefused":
            refused[{d["Name"]: d["Value"] for d in metric["Dimensions"]}["error"]] = metric_id
    assert set(refused) == codes - REQUEST_SHAPE_ERRORS - NOT_REFUSALS
    assert "invalid_job" in refused and "duplicate_share" in refused
    # refused / (accepted + refused), only over windows with enough shares.
    assert all(f"FILL({i}, 0)" in by_id["refused"]["Expression"] for i in refused.values())
    assert by_id["shares"]["Expression"] == "FILL(accepted, 0) + refused"
    assert by_id["accepted"]["MetricStat"]["Metric"]["MetricName"] == "SharesAccepted"
    ratio = by_id["ratio"]
    assert ratio["ReturnData"] is True
    assert ratio["Expression"] == {"Fn::Sub": "IF(shares >= ${ShareRefusalAlarmMinShares}, "
                                              "refused / shares, 0)"}
    assert [m["Id"] for m in props["Metrics"] if m.get("ReturnData")] == ["ratio"]
    assert props["Threshold"] == {"Ref": "ShareRefusalAlarmRatio"}
    assert props["ComparisonOperator"] == "GreaterThanThreshold"
    # CloudWatch: at most 10 metrics in one alarm.
    assert sum("MetricStat" in m for m in props["Metrics"]) <= 10


def test_throttling_alarms_cover_the_ledgers_indexes(packaged: Packaged) -> None:
    ledger = packaged.sam["Resources"]["LedgerTable"]["Properties"]
    props = _alarms(packaged)["LedgerIndexesThrottleAlarm"]
    watched = set()
    for metric in _alarm_metrics(props):
        dims = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
        assert dims["TableName"] == {"Ref": "LedgerTable"}
        watched.add((dims["GlobalSecondaryIndexName"], metric["MetricName"]))
    assert watched == {(g["IndexName"], kind) for g in ledger["GlobalSecondaryIndexes"]
                       for kind in ("ReadThrottleEvents", "WriteThrottleEvents")}


def test_stream_lag_alarm_reads_the_consumers_iterator_age_in_seconds(packaged: Packaged) -> None:
    props = _alarms(packaged)["StreamsLagAlarm"]
    age, lag = props["Metrics"]
    assert age["MetricStat"]["Metric"]["MetricName"] == "IteratorAge"
    assert age["MetricStat"]["Stat"] == "Maximum"
    assert lag == {"Id": "lag", "Expression": "age / 1000", "Label": "stream consumer lag (s)",
                   "ReturnData": True}
    assert props["Threshold"] == {"Ref": "StreamLagAlarmSeconds"}
    failures = _alarms(packaged)["StreamsFailuresAlarm"]
    assert failures["Dimensions"] == [{"Name": "QueueName", "Value": {
        "Fn::GetAtt": ["StreamsFailureQueue", "QueueName"]}}]


def test_api_alarm_names_the_api(packaged: Packaged) -> None:
    from tests.deploy.test_template import _rest_api

    api, _stage = _rest_api(packaged)
    # Name and the body's title agree, so the ApiName dimension is right either way.
    assert api["Name"] == api["Body"]["info"]["title"] == "workproof-prod"
    alarm = packaged.sam["Resources"]["Api5xxAlarm"]["Properties"]
    dims = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
    assert dims == {"ApiName": "workproof-prod", "Stage": "api"}


# --- the dashboard ---------------------------------------------------------------

def _dashboard(packaged: Packaged) -> tuple[str, dict[str, Any]]:
    (dashboard,) = resources(packaged.sam, "AWS::CloudWatch::Dashboard").values()
    text = dashboard["Properties"]["DashboardBody"]["Fn::Sub"]
    refs = substitutions(text)
    values = {ref: f"<{ref}>" for ref in refs}
    return text, json.loads(substitute(text, values))


def test_dashboard_body_names_only_this_stacks_resources(packaged: Packaged) -> None:
    text, _body = _dashboard(packaged)
    for ref in substitutions(text):
        name = ref.split(".", 1)[0]
        assert ref == "AWS::Region" or name in packaged.sam["Resources"], ref


def test_dashboard_shows_hashes_shares_errors_throttles_and_the_consumer(packaged: Packaged) -> None:
    _text, body = _dashboard(packaged)
    metric_widgets = {w["properties"]["title"]: w["properties"] for w in body["widgets"]
                      if w["type"] == "metric"}

    def names(title: str) -> set[str]:
        found = set()
        for row in metric_widgets[title].get("metrics", []):
            found |= {row[1]} if isinstance(row[0], str) else {
                word for word in ("SharesRefused", "ThrottledRequests")
                if word in row[0].get("expression", "")}
        return found

    rate = metric_widgets["Hashes credited per second"]["metrics"]
    assert rate[0][0] == {"expression": "hashes / PERIOD(hashes)", "label": "hashes/s", "id": "rate"}
    assert names("Shares by outcome (per minute)") == {"SharesAccepted", "SharesRefused"}
    assert {"Errors", "5XXError"} <= names("Errors")
    # Every function's errors, and the throttles of the two that serve requests.
    errors = {(row[1], row[3]) for row in metric_widgets["Errors"]["metrics"] if row[0] == "AWS/Lambda"}
    assert errors == {("Errors", f"<{name}>") for name in FUNCTIONS} | {
        ("Throttles", "<APIHandler>"), ("Throttles", "<Verify>")}
    assert {"DynamoThrottles", "DynamoRetries", "ThrottledRequests", "WriteThrottleEvents"} <= \
        names("DynamoDB throttles and retries")
    consumer = metric_widgets["Stream consumer"]["metrics"]
    assert ["AWS/Lambda", "IteratorAge", "FunctionName", "<Streams>"] == consumer[0][:4]
    assert {"IteratorAge", "Errors", "ApproximateNumberOfMessagesVisible"} == names("Stream consumer")
    (alarm_widget,) = [w for w in body["widgets"] if w["type"] == "alarm"]
    assert set(alarm_widget["properties"]["alarms"]) == {
        f"<{name}.Arn>" for name in resources(packaged.sam, "AWS::CloudWatch::Alarm")}


def test_outputs_point_at_the_dashboard_and_the_consumer(packaged: Packaged) -> None:
    outputs = packaged.sam["Outputs"]
    assert "#dashboards:name=${Dashboard}" in outputs["DashboardURL"]["Value"]["Fn::Sub"]
    assert outputs["StreamsFunctionName"] == {"Value": {"Ref": "Streams"}}
    assert outputs["VerifyFunctionName"] == {"Value": {"Ref": "Verify"}}
    assert outputs["StreamsFailureQueueUrl"] == {"Value": {"Ref": "StreamsFailureQueue"}}
    assert function(packaged.sam, "Streams")["FunctionName"] == "workproof-prod-streams"


def test_an_alarm_email_gets_a_topic_a_subscription_and_the_spend_budget(packaged: Packaged) -> None:
    """`make deploy ALARM_EMAIL=...` passes AlarmEmail: the stack makes the
    alarms' topic (unless one is given) and subscribes the address; with a
    MonthlyBudget, AWS Budgets mails the same address at 80 % spent and 100 %
    forecast."""
    sam = packaged.sam
    assert sam["Parameters"]["AlarmEmail"]["Default"] == ""
    assert sam["Parameters"]["MonthlyBudget"]["Default"] == 0
    topic = sam["Resources"]["AlarmTopic"]
    assert topic["Type"] == "AWS::SNS::Topic" and topic["Condition"] == "CreatesAlarmTopic"
    subscription = sam["Resources"]["AlarmEmailSubscription"]
    assert subscription["Properties"]["Protocol"] == "email"
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}
    budget = sam["Resources"]["SpendBudget"]
    assert budget["Condition"] == "HasBudget"
    assert budget["Properties"]["Budget"]["BudgetLimit"] == {"Amount": {"Ref": "MonthlyBudget"},
                                                               "Unit": "USD"}
    kinds = {(n["Notification"]["NotificationType"], n["Notification"]["Threshold"])
             for n in budget["Properties"]["NotificationsWithSubscribers"]}
    assert kinds == {("ACTUAL", 80), ("FORECASTED", 100)}
    conditions = sam["Conditions"]
    assert conditions["HasBudget"]["Fn::And"][0] == {"Condition": "HasAlarmEmail"}
