"""Workproof: the Coinhive HTTP API on Chalice and DynamoDB."""
