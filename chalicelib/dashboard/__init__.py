"""The operator's dashboard (/dashboard): sessions, the sign-in throttle, its wire
rules, sign-in and out, the views, and the Blueprint declaring its routes."""
