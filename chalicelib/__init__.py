"""Workproof: the Coinhive HTTP API on Chalice and DynamoDB."""

# The release: /openapi.json's info.version and CHANGELOG.md's newest heading
# say the same (tests/unit/test_version.py).
__version__ = "0.5.0"
