"""Bad input on every HTTP API, refused the same way by every service.

- `BodyLimit`: a pure ASGI middleware that refuses a body larger than the limit before
  reading it (by its `Content-Length`) or as soon as the streamed bytes pass the limit
  (chunked uploads): 413. A declared length that is not a number: 400.
- `MediaTypeCheck`: a body must be JSON (`application/json` or `application/*+json`,
  or what `accepted` names): 415 otherwise.
- `install_problem_handlers`: every rejection (401, 403, 404, 405, 413, 415, 422, ...) is an
  RFC 9457 problem-details body, `application/problem+json`, whose `detail` names what is
  wrong (and `errors` lists each invalid field of a request); an unexpected error is a
  500 problem that reveals nothing of the server.
- `PageSize`: the one query parameter for a page of results, bounded (`MAX_PAGE_SIZE`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from http import HTTPStatus
from typing import Annotated, Any

import orjson
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
MAX_PAGE_SIZE = 500
#: A page of results: `limit` items at most, never more than MAX_PAGE_SIZE.
PageSize = Annotated[
    int,
    Query(ge=1, le=MAX_PAGE_SIZE, description=f"items per page (1..{MAX_PAGE_SIZE})"),
]
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def problem_body(
    status: int, detail: str, *, instance: str | None = None, **extensions: Any
) -> dict[str, Any]:
    """An RFC 9457 problem object (`type` about:blank: the status says what kind)."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    return body | extensions


def problem_response(
    status: int,
    detail: str,
    *,
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> Response:
    return Response(
        orjson.dumps(problem_body(status, detail, instance=instance, **extensions)),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=dict(headers or {}),
    )


async def _send_problem(send: Send, status: int, detail: str, path: str) -> None:
    body = orjson.dumps(problem_body(status, detail, instance=path))
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyTooLarge(StarletteHTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body exceeds the limit of {limit} bytes")


class BodyLimit:
    """Refuse request bodies over `max_bytes` (413), without reading them."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await _send_problem(send, 400, "Content-Length is not a number", scope["path"])
                return
            if int(declared) > self.max_bytes:
                await _send_problem(send, 413, BodyTooLarge(self.max_bytes).detail, scope["path"])
                return
        received = 0
        limit = self.max_bytes

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counted, send)


class MediaTypeCheck:
    """Refuse a request body that is not JSON (415), before any route reads it."""

    def __init__(self, app: ASGIApp, accepted: Iterable[str] = ("application/json",)) -> None:
        self.app = app
        self.accepted = frozenset(accepted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in _BODY_METHODS and _has_body(scope):
            media = (_header(scope, b"content-type") or "").split(";", 1)[0].strip().lower()
            if not (
                media in self.accepted
                or (media.startswith("application/") and media.endswith("+json"))
            ):
                shown = media or "none"
                await _send_problem(
                    send,
                    415,
                    f"the body must be JSON (Content-Type: application/json), not {shown}",
                    scope["path"],
                )
                return
        await self.app(scope, receive, send)


def _has_body(scope: Scope) -> bool:
    length = _header(scope, b"content-length")
    if length is not None:
        return length != "0"
    return _header(scope, b"transfer-encoding") is not None


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return str(value.decode("latin-1")).strip()
    return None


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem details (RFC 9457)",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "what is wrong"},
        "instance": {"type": "string"},
        "errors": {"description": "each invalid part of the request"},
    },
}
_ERRORS = {
    400: "the request cannot be read (e.g. the body is not JSON)",
    401: "no bearer token, or one that does not verify",
    403: "the caller's role or scope does not reach this",
    404: "no such resource (or none the caller may see)",
    413: "the body exceeds the size limit",
    415: "the body is not JSON",
    422: "the request is not valid",
}


def document_problems(app: FastAPI) -> None:
    """Every route's OpenAPI lists the problem-details answers it may give, and the roles
    that may call it (`x-required-roles`, from its `access.requires`)."""
    from clearance_runtime.access import required_roles

    for route in _api_routes(app.routes):
        roles = required_roles(_calls(route.dependant))
        if roles is not None:
            route.openapi_extra = {**(route.openapi_extra or {}), "x-required-roles": sorted(roles)}
        for status, description in _ERRORS.items():
            # A route that documents this status keeps its own description and bodies (a
            # 422 may be a domain answer); the problem-details body is added beside them.
            given = route.responses.get(status) or route.responses.get(str(status))
            if given is None:
                route.responses[status] = {
                    "description": description,
                    "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}},
                }
            else:
                given.setdefault("content", {}).setdefault(PROBLEM_JSON, {"schema": PROBLEM_SCHEMA})
        # Any other error a route documents (a 409, a 502) is raised as HTTPException too,
        # so it is answered as problem details as well.
        for status, given in route.responses.items():
            if int(status) >= 400:
                given.setdefault("content", {}).setdefault(PROBLEM_JSON, {"schema": PROBLEM_SCHEMA})


def _api_routes(routes: Iterable[Any]) -> Iterator[Any]:
    """Every APIRoute, those of included routers too (FastAPI keeps an included router
    as one entry that names its `original_router`)."""
    from fastapi.routing import APIRoute

    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif getattr(route, "original_router", None) is not None:
            yield from _api_routes(route.original_router.routes)


def _calls(dependant: Any) -> list[Any]:
    """Every dependency callable of a route, depth first."""
    calls = []
    for dependency in dependant.dependencies:
        calls.append(dependency.call)
        calls.extend(_calls(dependency))
    return calls


def install_problem_handlers(app: FastAPI) -> None:
    """Every error of `app` as application/problem+json (RFC 9457)."""

    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        detail: Any = error.detail  # FastAPI's HTTPException allows any JSON detail
        response = problem_response(
            error.status_code,
            detail if isinstance(detail, str) else HTTPStatus(error.status_code).phrase,
            instance=request.url.path,
            headers=error.headers,
        )
        if not isinstance(detail, str):
            # A structured detail (e.g. the reasons of a 422) stays what the route's contract
            # says it is: `detail` keeps it, beside the problem's other members.
            body = orjson.loads(response.body)
            body["detail"] = detail
            response.body = orjson.dumps(body)
            response.headers["content-length"] = str(len(response.body))
        return response

    async def invalid_request(request: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        errors = [
            {
                "location": ".".join(str(part) for part in item.get("loc", ())),
                "message": str(item.get("msg", "")),
            }
            for item in error.errors()
        ]
        named = "; ".join(f"{e['location']}: {e['message']}" for e in errors[:5])
        return problem_response(
            422, f"the request is not valid: {named}", instance=request.url.path, errors=errors
        )

    async def unexpected(request: Request, error: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem_response(
            500, "an unexpected error; it was logged", instance=request.url.path
        )

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(Exception, unexpected)
