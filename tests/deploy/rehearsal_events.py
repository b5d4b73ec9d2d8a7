"""The events the deploy rehearsal feeds the packaged functions, shaped like
AWS's documented samples (tests/deploy/events/):

- `apigateway-rest-proxy.json`: the REST API proxy integration's input
  (API Gateway developer guide, "Input format of a Lambda function for proxy
  integration"); `api_event` fills in a request of this stack's `api` stage;
- `lambda-function-url.json`: a function URL's request (payload 2.0; Lambda
  developer guide, "Request payload format"); `url_event` fills in a request
  as the default door's CloudFront distribution sends it to the function URL
  the rehearsal created (tests/url_events.py): Host that URL's own domain,
  `x-workproof-origin` the origin secret's value (read from Secrets Manager
  by the caller, as the distribution's `{{resolve:...}}` does), and the
  viewer-request function's `x-workproof-viewer` and `x-forwarded-host`;
- `dynamodb-stream.json`: the DynamoDB Streams event Lambda delivers (Lambda
  developer guide, "Using AWS Lambda with Amazon DynamoDB"); `stream_events`
  reads the real records from moto's DynamoDB Streams for the streams the
  stack's event source mappings connect to the consumer, in batches of at
  most the mapping's BatchSize records of one shard, as Lambda's poller
  does, and checks each record has every field of the sample.
"""
from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from tests.url_events import VIEWER_HOST
from tests.url_events import url_event as _url_event

EVENTS = Path(__file__).resolve().parent / "events"
API_SAMPLE = json.loads((EVENTS / "apigateway-rest-proxy.json").read_text())
STREAM_SAMPLE = json.loads((EVENTS / "dynamodb-stream.json").read_text())
STAGE = "api"
HOST = "abcdef1234.execute-api.us-east-1.amazonaws.com"
VIEWER = "203.0.113.7"  # the viewer's address CloudFront's viewer function writes


def api_event(method: str, path: str, params: dict[str, Any], request_id: str,
              source_ip: str = "198.51.100.7") -> dict[str, Any]:
    """A request as API Gateway hands it to the function (form body for POST, query for GET)."""
    event = copy.deepcopy(API_SAMPLE)
    headers = {"Host": HOST, "Origin": "https://shop.example", "User-Agent": "rehearsal",
               "X-Forwarded-For": source_ip, "X-Forwarded-Port": "443", "X-Forwarded-Proto": "https"}
    query: dict[str, str] | None = None
    body: str | None = None
    if method == "GET":
        query = {k: str(v) for k, v in params.items()}
    else:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        body = urlencode(params)
    event.update(resource=path, path=path, httpMethod=method, headers=headers,
                 multiValueHeaders={k: [v] for k, v in headers.items()},
                 queryStringParameters=query,
                 multiValueQueryStringParameters={k: [v] for k, v in query.items()} if query else None,
                 body=body, isBase64Encoded=False)
    context = event["requestContext"]
    context.update(httpMethod=method, resourcePath=path, path=f"/{STAGE}{path}", stage=STAGE,
                   requestId=request_id, domainName=HOST, domainPrefix=HOST.split(".")[0])
    context["identity"].update(sourceIp=source_ip, userAgent="rehearsal")
    return event


def url_event(method: str, path: str, params: dict[str, Any], request_id: str, *, url_host: str,
              origin: str | None, viewer: str | None = VIEWER,
              headers: dict[str, str] | None = None) -> dict[str, Any]:
    """A request CloudFront forwards to the function URL `url_host` (form body for
    POST, query for GET): `origin` the `x-workproof-origin` value (None: none, a
    direct hit), `viewer` the viewer function's address (None: none), `headers`
    what the viewer sent besides (CloudFront passes them on)."""
    sent = {"Origin": "https://shop.example"}
    if method != "GET":
        sent["Content-Type"] = "application/x-www-form-urlencoded"
    sent.update(headers or {})
    encoded = urlencode(params)
    return _url_event(method, path, query=encoded if method == "GET" else "",
                      body=None if method == "GET" else encoded, headers=sent, origin=origin,
                      viewer=viewer, host=VIEWER_HOST, request_id=request_id, url_host=url_host)


def answer_body(response: dict[str, Any]) -> dict[str, Any]:
    """The JSON body of a proxy integration's or a function URL's answer (HTTP 200,
    as the contract answers with the stack's default ErrorStatus)."""
    assert response["statusCode"] == 200, response
    body = response["body"]
    if response.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8")
    return dict(json.loads(body))


def _shape_problems(record: dict[str, Any]) -> list[str]:
    """Fields of the documented sample record this record lacks."""
    sample = STREAM_SAMPLE["Records"][0]
    missing = [key for key in sample if key not in record]
    wanted = set(sample["dynamodb"]) - ({"NewImage"} if record.get("eventName") == "REMOVE" else set())
    missing += [f"dynamodb.{key}" for key in sorted(wanted - set(record.get("dynamodb", {})))]
    return missing


def stream_events(mappings: list[dict[str, Any]], streams: Any) -> list[dict[str, Any]]:
    """Every record now in the mapped streams, as the Lambda events the mappings would send."""
    from ops.stream_pump import lambda_record  # GetRecords' record -> Lambda's (JSON types, ARN)

    events = []
    for mapping in mappings:
        arn = mapping["EventSourceArn"]
        shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        for shard in shards:
            iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                                  ShardIteratorType=mapping["StartingPosition"])
            page = streams.get_records(ShardIterator=iterator["ShardIterator"],
                                       Limit=mapping["BatchSize"])
            while page["Records"]:
                records = [lambda_record(record, arn) for record in page["Records"]]
                for record in records:
                    problems = _shape_problems(record)
                    assert not problems, f"a stream record lacks the documented {problems}: {record}"
                events.append({"Records": records})
                page = streams.get_records(ShardIterator=page["NextShardIterator"],
                                           Limit=mapping["BatchSize"])
    return events
