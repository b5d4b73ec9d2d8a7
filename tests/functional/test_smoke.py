from tests.fixtures import credit


def test_balance_roundtrip(api):
    credit(api.site.site_key, "alice", 100)
    assert api.get("/user/balance", name="alice") == {
        "success": True, "name": "alice", "total": 100, "withdrawn": 0, "balance": 100}
