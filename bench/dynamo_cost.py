"""DynamoDB on-demand billing rules applied to recorded calls.

A `Recorder` hooks botocore's events (`before-parameter-build.dynamodb.*`,
`after-call.dynamodb.*`) and, for every write, reads the item before and
after from the embedded store (moto in-process, below botocore, so the
peeks are not calls), then prices each call:

  writes  1 unit per KB of the larger of the item before/after (PutItem,
          UpdateItem, DeleteItem; a failed condition still pays); 2 per KB
          per item inside TransactWriteItems (a ConditionCheck too);
  indexes for each GSI: an entry put or deleted is 1 unit per KB of the
          entry, a key change 2 (delete + put), a projected attribute that
          changed 1, nothing otherwise;
  reads   per 4 KB, 1 unit strongly consistent, 0.5 eventually, 2 in a
          transaction; a missing item reads as 1 (0.5) unit; Query pays the
          items it read, per page.
Item sizes: attribute names plus values (strings UTF-8, numbers
ceil(digits / 2) + 1, booleans and nulls 1, lists and maps 3 + elements).
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

KB = 1024


def json_key(key: dict[str, Any]) -> str:
    import json

    return json.dumps(key, sort_keys=True)


def value_size(value: dict[str, Any]) -> int:
    (kind, raw), = value.items()
    if kind == "S":
        return len(raw.encode("utf-8"))
    if kind == "N":
        digits = raw.lstrip("-").replace(".", "").lstrip("0") or "0"
        return math.ceil(len(digits) / 2) + 1
    if kind == "B":
        return len(raw)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(value_size({kind[0]: v}) for v in raw)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in raw)
    if kind == "M":
        return 3 + sum(1 + len(k.encode("utf-8")) + value_size(v) for k, v in raw.items())
    raise ValueError(kind)


def item_size(item: dict[str, Any] | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in item.items())


def write_units(size: int) -> int:
    return max(1, math.ceil(size / KB))


def read_units(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / (4 * KB)))
    return units if consistent else units / 2


@dataclass(frozen=True)
class IndexShape:
    name: str
    keys: tuple[str, ...]
    projected: tuple[str, ...] | None  # None = ALL


def index_entry(item: dict[str, Any] | None, index: IndexShape,
                table_keys: tuple[str, ...]) -> dict[str, Any] | None:
    if not item or any(k not in item for k in index.keys):
        return None
    if index.projected is None:
        return dict(item)
    names = set(index.keys) | set(table_keys) | set(index.projected)
    return {k: v for k, v in item.items() if k in names}


def index_units(old: dict[str, Any] | None, new: dict[str, Any] | None, index: IndexShape,
                table_keys: tuple[str, ...]) -> int:
    before, after = index_entry(old, index, table_keys), index_entry(new, index, table_keys)
    if before == after:
        return 0
    if before is None:
        return write_units(item_size(after))
    if after is None:
        return write_units(item_size(before))
    if any(before.get(k) != after.get(k) for k in index.keys):
        return write_units(item_size(before)) + write_units(item_size(after))
    return write_units(max(item_size(before), item_size(after)))


@dataclass
class Cost:
    calls: list[str] = field(default_factory=list)
    base_wru: float = 0
    index_wru: dict[str, float] = field(default_factory=dict)
    rru: float = 0

    @property
    def wru(self) -> float:
        return self.base_wru + sum(self.index_wru.values())

    def add(self, other: Cost) -> None:
        self.calls += other.calls
        self.base_wru += other.base_wru
        self.rru += other.rru
        for name, units in other.index_wru.items():
            self.index_wru[name] = self.index_wru.get(name, 0) + units

    def by_key(self) -> str:
        return ", ".join(f"{n}×{self.calls.count(n)}" for n in dict.fromkeys(self.calls))


class Recorder:
    """Prices every DynamoDB call of the in-process store while active."""

    def __init__(self, session_clients: list[Any], backend: Any,
                 second: Any = lambda: 0) -> None:
        self.clients = session_clients
        self.backend = backend
        self.second = second  # the (simulated) second a call is billed in
        self.cost = Cost()
        # (table or table/index, partition key value, second) -> units
        self.per_key: dict[tuple[str, str, int], float] = {}
        self.per_key_read: dict[tuple[str, str, int], float] = {}

    # --- the store, peeked at below botocore ---------------------------------
    def _table(self, name: str) -> Any:
        return self.backend.get_table(name)

    def _keys(self, name: str) -> tuple[str, ...]:
        table = self._table(name)
        return tuple(k for k in (table.hash_key_attr, table.range_key_attr) if k)

    def _indexes(self, name: str) -> list[IndexShape]:
        shapes = []
        for index in self._table(name).global_indexes:
            projection = index.projection or {}
            kind = projection.get("ProjectionType", "ALL")
            projected = None if kind == "ALL" else tuple(projection.get("NonKeyAttributes", ()))
            shapes.append(IndexShape(index.name, tuple(k["AttributeName"] for k in index.schema),
                                     projected))
        return shapes

    def _peek(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        found = self.backend.get_item(table, key)
        return found.to_json()["Attributes"] if found else None

    def _key_of(self, table: str, item: dict[str, Any]) -> dict[str, Any]:
        return {k: item[k] for k in self._keys(table)}

    # --- botocore hooks --------------------------------------------------------
    def _writes(self, operation: str, params: dict[str, Any]
                ) -> Iterator[tuple[str, str, dict[str, Any]]]:
        if operation in ("PutItem",):
            yield "Put", params["TableName"], self._key_of(params["TableName"], params["Item"])
        elif operation in ("UpdateItem", "DeleteItem"):
            yield operation[:-4], params["TableName"], params["Key"]
        elif operation == "TransactWriteItems":
            for entry in params["TransactItems"]:
                (kind, op), = entry.items()
                key = op["Key"] if "Key" in op else self._key_of(op["TableName"], op["Item"])
                yield kind, op["TableName"], key
        elif operation == "BatchWriteItem":
            for table, requests in params["RequestItems"].items():
                for request in requests:
                    if "PutRequest" in request:
                        yield "Put", table, self._key_of(table, request["PutRequest"]["Item"])
                    else:
                        yield "Delete", table, request["DeleteRequest"]["Key"]

    def before(self, model: Any, params: dict[str, Any], context: dict[str, Any],
               **_: Any) -> None:
        olds = [(kind, key, self._peek(table, key), table)
                for kind, table, key in self._writes(model.name, params)]
        context["workproof_cost"] = (params, olds)

    def after(self, model: Any, parsed: dict[str, Any], context: dict[str, Any],
              **_: Any) -> None:
        operation = model.name
        params, olds = context.pop("workproof_cost", ({}, []))
        cost = Cost(calls=[operation])
        transactional = operation == "TransactWriteItems"
        for kind, key, old, table in olds:
            new = self._peek(table, key)
            units = write_units(max(item_size(old), item_size(new))) * (2 if transactional else 1)
            cost.base_wru += units
            self._charge(table, key, units)
            if kind == "ConditionCheck":
                continue
            for index in self._indexes(table):
                index_cost = index_units(old, new, index, self._keys(table))
                if not index_cost:
                    continue
                cost.index_wru[index.name] = cost.index_wru.get(index.name, 0) + index_cost
                for image in (old, new):
                    entry = index_entry(image, index, self._keys(table))
                    if entry:
                        self._charge(f"{table}/{index.name}", {"k": entry[index.keys[0]]},
                                     write_units(item_size(entry)))
        cost.rru += self._read_units(operation, params, parsed)
        self.cost.add(cost)

    def _charge(self, where: str, key: dict[str, Any], units: float,
                read: bool = False) -> None:
        """Units per partition key value and second (what one partition must absorb)."""
        value = next(iter(next(iter(key.values())).values()))
        book = self.per_key_read if read else self.per_key
        slot = (where, str(value), int(self.second()))
        book[slot] = book.get(slot, 0) + units

    def _read_units(self, operation: str, params: dict[str, Any],
                    parsed: dict[str, Any]) -> float:
        consistent = bool(params.get("ConsistentRead"))
        if operation == "GetItem":
            units = read_units(item_size(parsed.get("Item")), consistent)
            self._charge(params["TableName"], params["Key"], units, read=True)
            return units
        if operation == "BatchGetItem":
            total = 0.0
            for table, wanted in params["RequestItems"].items():
                items = parsed.get("Responses", {}).get(table, [])
                strong = bool(wanted.get("ConsistentRead"))
                found = {json_key(self._key_of(table, i)): i for i in items}
                for key in wanted["Keys"]:
                    units = read_units(item_size(found.get(json_key(key))), strong)
                    self._charge(table, key, units, read=True)
                    total += units
            return total
        if operation in ("Query", "Scan"):
            units = read_units(sum(item_size(i) for i in parsed.get("Items", [])), consistent)
            values = params.get("ExpressionAttributeValues", {})
            if operation == "Query" and values:
                where = params["TableName"] + (f"/{params['IndexName']}"
                                               if params.get("IndexName") else "")
                # The partition key's value: the first value of the key condition.
                first = sorted(values)[0]
                self._charge(where, {"k": values[first]}, units, read=True)
            return units
        if operation == "TransactGetItems":
            return sum(2 * max(1, math.ceil(item_size(r.get("Item")) / (4 * KB)))
                       for r in parsed.get("Responses", []))
        return 0.0

    def __enter__(self) -> Recorder:
        for client in self.clients:
            events = client.meta.events
            events.register("before-parameter-build.dynamodb", self.before)
            events.register("after-call.dynamodb", self.after)
        return self

    def __exit__(self, *_exc: Any) -> None:
        for client in self.clients:
            events = client.meta.events
            events.unregister("before-parameter-build.dynamodb", self.before)
            events.unregister("after-call.dynamodb", self.after)
