"""`make bench-abuse`: what each attack costs the operator, and what honest visitors see.

A discrete-event simulation in simulated time that drives the real code:
the front door (`front_door.check` / `front_door.after`, what the app's
middleware runs before any view), job issuing and submits
(`mining.issue_job`, `mining.submit`: signatures, the site's levels and
ceiling, per-source sizing, guards, credits), token verification
(`tokens.verify`, the site's backend), and the stream consumer
(`streams.handle_event`: stats, rate buckets, the sites' pressure), on the
embedded store, with DynamoDB's billing rules recorded per call
(bench/dynamo_cost.py). Only the nonces' SHA-256 is skipped: a solve time is
drawn at random (k puzzles, each a geometric number of hashes with mean D)
and divided by the client's hash rate.

In front of the app (bench/abuse/edge.py), the template's front door
(`--door`: its FrontDoor parameter, both by default from the same seeds):
every rule of the door's WAF web ACL (WebAcl behind the /api stage on the
REST door, EdgeWebAcl on the paths as sent on the cloudfront door), rate
rules deciding every 10 s with a random lag of up to 30 s as AWS documents;
on the REST door API Gateway's stage throttle per method. Prices from
bench/bill.py by door (the cloudfront door's flat-rate plan: its fee
whatever the traffic). Behind it (bench/abuse/pool.py): as many warm
containers as the template's reserved concurrency (ApiReservedConcurrency;
when 0, its default, what `make deploy` reserves: bench/bill.py's
DEPLOY_RESERVATION, 70), each with its own buckets, source rates and site
cache, each busy for its request's billed duration; a request goes to an
idle one at random, and when none is idle Lambda throttles it (retried by
the widget as network trouble).

Honest traffic beside every attack (bench/abuse/clients.py): 200 captcha
visitors and 50 new miners a minute, each from its own address, half at
phone speed; each backs off on `busy` as the widget and the miner do
(Retry-After plus jitter). A captcha counts only once the site's backend
verified its token. The attackers (bench/abuse/attackers.py) and the
scenarios with their targets (scenarios.py, targets.py): `--scenario` runs
some; the tables (report.py, tables.py) give dollars per hour by layer, the attacker's
own cost to the operator, honest outcomes and each target's PASS or FAIL.
"""
