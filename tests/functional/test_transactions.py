"""chalicelib/store/transactions.py: a failed condition is named by the label of
the item that failed, whatever the kinds and order of the items staged, and
the item comes back as it was, decoded by its model."""
from __future__ import annotations

import pytest

from tests.functional.store import aws  # noqa: F401 - the shared store

pytestmark = pytest.mark.usefixtures("aws")


def _stage_mixed(tx, failing: str) -> None:
    """Four items of four kinds, staged in the reverse of pynamodb's grouping
    order (condition checks, deletes, puts, updates); only `failing` fails
    (the put fails when its item exists already)."""
    from chalicelib.store.models import Token

    def holds(label: str):
        return Token.hashes == (0 if label == failing else 7)

    tx.update("update", Token("site#update"), [Token.hashes.add(1)], holds("update"))
    tx.save("put", Token("site#put", hashes=1), Token.pk.does_not_exist())
    tx.delete("delete", Token("site#delete"), holds("delete"))
    tx.condition_check("check", Token, "site#check", holds("check"))


@pytest.mark.parametrize("failing", ["update", "put", "delete", "check"])
def test_a_failed_condition_is_named_by_the_label_staged(failing: str) -> None:
    from chalicelib.store.models import Token
    from chalicelib.store.transactions import ConditionFailed, Transaction

    existing = ["update", "delete", "check"] + (["put"] if failing == "put" else [])
    for name in existing:
        Token(f"site#{name}", hashes=7, created=5).save()
    tx = Transaction()
    _stage_mixed(tx, failing)
    with pytest.raises(ConditionFailed) as raised:
        tx.commit()
    assert raised.value.labels == {failing}
    old = raised.value.item(failing, Token)
    if failing in ("update", "put"):  # the writes that ask for the item as it was
        assert old is not None and (old.pk, old.hashes, old.created) == (f"site#{failing}", 7, 5)
    else:
        assert old is None
    # Nothing moved: the transaction was cancelled as a whole.
    assert sorted((t.pk, t.hashes) for t in Token.scan()) == sorted(
        (f"site#{name}", 7) for name in existing)


def test_a_transaction_of_mixed_kinds_commits_every_item() -> None:
    from chalicelib.store.models import Token
    from chalicelib.store.transactions import Transaction

    for name in ("update", "delete", "check"):
        Token(f"site#{name}", hashes=7).save()
    tx = Transaction()
    _stage_mixed(tx, failing="")
    tx.commit()
    assert sorted((t.pk, t.hashes) for t in Token.scan()) == [
        ("site#check", 7), ("site#put", 1), ("site#update", 8)]
