"""The embedded store's transactions: atomic, cheap to roll back, idempotent by token.

Every test runs in-process (mock_aws) and through the store server.
"""
from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ops import store_txn
from tests.functional.embedded import (  # noqa: F401 - the fixtures
    Dynamo,
    dynamo_fixture,
    in_process_fixture,
    moto_backend,
)

CONDITION_FAILED = {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}


def put(table: str, pk: str, condition: str | None = None, **attrs: int) -> dict[str, Any]:
    op: dict[str, Any] = {"TableName": table, "Item": {
        "pk": {"S": pk}, **{k: {"N": str(v)} for k, v in attrs.items()}}}
    if condition:
        op["ConditionExpression"] = condition
    return {"Put": op}


def add(table: str, pk: str, amount: int, condition: str | None = None,
        **values: int) -> dict[str, Any]:
    op: dict[str, Any] = {
        "TableName": table, "Key": {"pk": {"S": pk}}, "UpdateExpression": "ADD credit :n",
        "ExpressionAttributeValues": {":n": {"N": str(amount)},
                                      **{f":{k}": {"N": str(v)} for k, v in values.items()}}}
    if condition:
        op["ConditionExpression"] = condition
    return {"Update": op}


def share(guards: str, users: str, job: str, hashes: int = 5) -> list[dict[str, Any]]:
    """A share's shape: a replay guard that must not exist, and a credit."""
    return [put(guards, job, "attribute_not_exists(pk)"), add(users, "alice", hashes)]


def cancelled(dynamo: Dynamo, items: list[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        dynamo.client.transact_write_items(TransactItems=items, **kwargs)
    return caught.value.response


# --- atomicity ----------------------------------------------------------------------

def test_a_failing_condition_on_the_last_item_leaves_the_earlier_items_unchanged(
        dynamo: Dynamo) -> None:
    table = dynamo.table()
    dynamo.client.put_item(TableName=table, Item={"pk": {"S": "alice"}, "credit": {"N": "10"}})
    dynamo.client.put_item(TableName=table, Item={"pk": {"S": "used"}})

    answer = cancelled(dynamo, [put(table, "new", hashes=5), add(table, "alice", 5),
                                put(table, "used", "attribute_not_exists(pk)")])

    assert answer["Error"]["Code"] == "TransactionCanceledException", answer["Error"]
    assert answer["CancellationReasons"] == [{"Code": "None"}, {"Code": "None"}, CONDITION_FAILED]
    assert dynamo.item(table, "new") is None
    assert dynamo.item(table, "alice") == {"pk": {"S": "alice"}, "credit": {"N": "10"}}
    assert dynamo.item(table, "used") == {"pk": {"S": "used"}}


def test_a_cancelled_transaction_restores_items_of_a_table_with_a_range_key(
        dynamo: Dynamo) -> None:
    table = dynamo.table(range_key=True)
    dynamo.client.put_item(TableName=table, Item={"pk": {"S": "p"}, "sk": {"S": "1"}})
    items = [{"Put": {"TableName": table, "Item": {"pk": {"S": "p"}, "sk": {"S": "2"}}}},
             {"Put": {"TableName": table, "Item": {"pk": {"S": "q"}, "sk": {"S": "1"}}}},
             {"Delete": {"TableName": table, "Key": {"pk": {"S": "p"}, "sk": {"S": "1"}},
                         "ConditionExpression": "attribute_not_exists(pk)"}}]

    assert cancelled(dynamo, items)["CancellationReasons"][2] == CONDITION_FAILED
    keys = sorted((i["pk"]["S"], i["sk"]["S"])
                  for i in dynamo.client.scan(TableName=table)["Items"])
    assert keys == [("p", "1")]


def test_a_committed_share_writes_both_items(dynamo: Dynamo) -> None:
    guards, users = dynamo.table(), dynamo.table()
    dynamo.client.transact_write_items(TransactItems=share(guards, users, "job1"))
    dynamo.client.transact_write_items(TransactItems=share(guards, users, "job2"))

    assert dynamo.item(users, "alice") == {"pk": {"S": "alice"}, "credit": {"N": "10"}}
    answer = cancelled(dynamo, share(guards, users, "job1"))
    assert answer["CancellationReasons"] == [CONDITION_FAILED, {"Code": "None"}]
    assert dynamo.item(users, "alice")["credit"] == {"N": "10"}


CASES = {
    "condition fails, ALL_OLD": lambda t: [
        add(t, "a", 1), {"Put": {**put(t, "b", "attribute_not_exists(pk)")["Put"],
                                 "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}}],
    "two conditions fail": lambda t: [
        put(t, "a", "attribute_not_exists(pk)"), add(t, "c", 1),
        add(t, "b", 1, "credit > :z", z=100)],
    "condition check fails": lambda t: [
        add(t, "c", 2), {"ConditionCheck": {"TableName": t, "Key": {"pk": {"S": "a"}},
                                            "ConditionExpression": "attribute_not_exists(pk)"}}],
    "ADD to a string": lambda t: [
        put(t, "c", credit=1), {"Update": {"TableName": t, "Key": {"pk": {"S": "s"}},
                                          "UpdateExpression": "ADD word :n",
                                          "ExpressionAttributeValues": {":n": {"N": "1"}}}}],
    "one item twice": lambda t: [add(t, "a", 1), add(t, "a", 2)],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_cancellations_answer_exactly_what_moto_answers(in_process: Dynamo, case: str) -> None:
    dynamo = in_process
    backend = moto_backend()
    outcomes = []
    for implementation in (store_txn.moto_transact_write_items, store_txn.transact_write_items):
        table = dynamo.table()
        for pk, attrs in (("a", {"credit": {"N": "1"}}), ("b", {"credit": {"N": "2"}}),
                          ("s", {"word": {"S": "x"}})):
            dynamo.client.put_item(TableName=table, Item={"pk": {"S": pk}, **attrs})
        with pytest.raises(Exception) as caught:
            implementation(backend, CASES[case](table))
        items = sorted(json.dumps(i, sort_keys=True)
                       for i in dynamo.client.scan(TableName=table)["Items"])
        outcomes.append((type(caught.value).__name__, json.loads(caught.value.description),
                         items))
    assert outcomes[0] == outcomes[1]


# --- the rollback copies items, not tables -------------------------------------------

@pytest.mark.parametrize("implementation", ["moto", "store"])
def test_a_rollback_restores_only_the_items_the_transaction_touched(
        in_process: Dynamo, implementation: str) -> None:
    """moto 5.2.5 swaps in a deep copy of the whole table; the store puts back one item."""
    dynamo = in_process
    table = dynamo.table()
    for n in range(50):
        dynamo.client.put_item(TableName=table, Item={"pk": {"S": f"u{n}"}, "credit": {"N": "1"}})
    moto_table = moto_backend().tables[table]
    before = dict(moto_table.items)
    transact = (store_txn.moto_transact_write_items if implementation == "moto"
                else store_txn.transact_write_items)

    with pytest.raises(Exception, match="ConditionalCheckFailed"):
        transact(moto_backend(), [add(table, "u1", 5), put(table, "u2", "attribute_not_exists(pk)")])

    after = moto_backend().tables[table]
    untouched_kept = after is moto_table and all(
        after.items[key] is item for key, item in before.items() if key.value != "u1")
    assert untouched_kept is (implementation == "store")
    assert dynamo.item(table, "u1") == {"pk": {"S": "u1"}, "credit": {"N": "1"}}


# --- ClientRequestToken ---------------------------------------------------------------

def test_a_repeated_token_succeeds_without_writing_again(dynamo: Dynamo) -> None:
    guards, users = dynamo.table(), dynamo.table()
    items = share(guards, users, "job1")
    dynamo.client.transact_write_items(TransactItems=items, ClientRequestToken="t" * 36)
    # Its guard now exists, so the same items would be cancelled if run again.
    dynamo.client.transact_write_items(TransactItems=items, ClientRequestToken="t" * 36)
    assert dynamo.item(users, "alice")["credit"] == {"N": "5"}
    assert cancelled(dynamo, items)["CancellationReasons"][0] == CONDITION_FAILED


def test_the_same_token_with_other_items_is_a_parameter_mismatch(dynamo: Dynamo) -> None:
    guards, users = dynamo.table(), dynamo.table()
    dynamo.client.transact_write_items(TransactItems=share(guards, users, "job1"),
                                       ClientRequestToken="token-1")
    answer = cancelled(dynamo, share(guards, users, "job2"), ClientRequestToken="token-1")
    assert answer["Error"]["Code"] == "IdempotentParameterMismatchException"
    assert dynamo.item(guards, "job2") is None
    assert dynamo.item(users, "alice")["credit"] == {"N": "5"}


def test_a_token_is_new_again_ten_minutes_after_its_transaction(
        dynamo: Dynamo, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(store_txn, "clock", lambda: now[0])
    guards, users = dynamo.table(), dynamo.table()
    items = share(guards, users, "job1")
    dynamo.client.transact_write_items(TransactItems=items, ClientRequestToken="token-2")
    now[0] += store_txn.TOKEN_SECONDS - 1
    dynamo.client.transact_write_items(TransactItems=items, ClientRequestToken="token-2")
    now[0] += 2
    answer = cancelled(dynamo, items, ClientRequestToken="token-2")
    assert answer["CancellationReasons"] == [CONDITION_FAILED, {"Code": "None"}]
    assert dynamo.item(users, "alice")["credit"] == {"N": "5"}


def test_a_cancelled_transaction_does_not_use_up_its_token(dynamo: Dynamo) -> None:
    guards, users = dynamo.table(), dynamo.table()
    dynamo.client.put_item(TableName=guards, Item={"pk": {"S": "job1"}})
    items = share(guards, users, "job1")
    cancelled(dynamo, items, ClientRequestToken="token-3")
    dynamo.client.delete_item(TableName=guards, Key={"pk": {"S": "job1"}})
    dynamo.client.transact_write_items(TransactItems=items, ClientRequestToken="token-3")
    assert dynamo.item(users, "alice")["credit"] == {"N": "5"}


# --- ReturnValuesOnConditionCheckFailure ----------------------------------------------

def test_all_old_returns_the_item_that_failed_a_single_write(dynamo: Dynamo) -> None:
    table = dynamo.table()
    old = {"pk": {"S": "a"}, "credit": {"N": "7"}}
    dynamo.client.put_item(TableName=table, Item=old)
    key, fail = {"pk": {"S": "a"}}, {"ConditionExpression": "attribute_not_exists(pk)",
                                     "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}
    calls = [
        lambda: dynamo.client.put_item(TableName=table, Item=key, **fail),
        lambda: dynamo.client.update_item(TableName=table, Key=key, UpdateExpression="ADD credit :n",
                                          ExpressionAttributeValues={":n": {"N": "1"}}, **fail),
        lambda: dynamo.client.delete_item(TableName=table, Key=key, **fail),
    ]
    for call in calls:
        with pytest.raises(ClientError) as caught:
            call()
        assert caught.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
        assert caught.value.response["Item"] == old
    assert dynamo.item(table, "a") == old


def test_all_old_in_a_transaction_returns_the_item_in_its_cancellation_reason(
        dynamo: Dynamo) -> None:
    table = dynamo.table()
    old = {"pk": {"S": "a"}, "credit": {"N": "7"}}
    dynamo.client.put_item(TableName=table, Item=old)
    failing = add(table, "a", 1, "credit > :big", big=100)
    failing["Update"]["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    missing = add(table, "none", 1, "attribute_exists(pk)")
    missing["Update"]["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"

    reasons = cancelled(dynamo, [add(table, "b", 1), failing, missing])["CancellationReasons"]

    assert reasons == [{"Code": "None"}, {**CONDITION_FAILED, "Item": old}, CONDITION_FAILED]


# --- nothing keeps items the tables no longer hold -----------------------------------

def test_an_item_replaced_or_deleted_is_not_kept_anywhere(in_process: Dynamo) -> None:
    """moto 5.2.5 keeps every item object it makes (for its dashboard): memory only grows."""
    import gc
    import weakref

    dynamo = in_process
    table = dynamo.table()
    dynamo.client.put_item(TableName=table, Item={"pk": {"S": "a"}, "credit": {"N": "1"}})
    first = weakref.ref(moto_backend().tables[table].items[next(iter(
        moto_backend().tables[table].items))])
    dynamo.client.put_item(TableName=table, Item={"pk": {"S": "a"}, "credit": {"N": "2"}})
    dynamo.client.transact_write_items(TransactItems=share(table, table, "job"))
    dynamo.client.delete_item(TableName=table, Key={"pk": {"S": "a"}})
    gc.collect()
    assert first() is None
    from moto.dynamodb.models.dynamo_type import Item
    assert Item.instances_tracked == []
