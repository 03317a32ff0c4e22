"""What the OpenAI-compatible emulators (chat, vision, embeddings) answer alike: the error
envelope, the 5xx body, the API-key check and the JSON body of a request."""

from __future__ import annotations

from typing import Any

from support.emulators import Request, Response


def error(
    status: int,
    code: str | None,
    message: str,
    kind: str = "invalid_request_error",
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body = {"error": {"message": message, "type": kind, "param": param, "code": code}}
    return Response.json(status, body, headers)


def server_error(status: int) -> Response:
    return error(status, None, "The server had an error processing your request.", "server_error")


def refused_key(request: Request, api_key: str | None) -> Response | None:
    """The 401 for a missing or wrong ``Authorization: Bearer`` key (``None``: let in)."""
    header = request.headers.get("authorization", "")
    if api_key is None or header == f"Bearer {api_key}":
        return None
    presented = header.removeprefix("Bearer ")
    return error(401, "invalid_api_key", f"Incorrect API key provided: {presented}.")


def json_body(request: Request) -> dict[str, Any] | Response:
    """The request's JSON object, or the 400 for a body that is not one."""
    try:
        body = request.json()
    except ValueError:
        return error(400, None, "We could not parse the JSON body of your request.")
    if not isinstance(body, dict):
        return error(400, None, "The body must be a JSON object.")
    return body
