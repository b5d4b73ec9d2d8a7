"""The data plumbing: pynamodb models, labelled transactions with safe retries,
the request's retry budget and idempotency records."""
