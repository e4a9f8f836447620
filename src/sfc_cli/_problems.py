"""From an SDK error value to the one line a person reads, and the exit code.

Each line names what failed and what to do next. Exit codes: 1 for an API or transfer failure,
2 for a usage error (bad arguments, no token). The SDK's own ``str(error)`` is written for
programmers (class names, paths); here the same facts are worded for the command line, and the
SDK text is kept only where it carries detail the user needs.
"""

from __future__ import annotations

import json

from attrs import frozen

from sfc_cli._format import one_line
from sfc_core import (
    TOKEN_ENV,
    ApiError,
    BadRequestError,
    ConflictError,
    FileChangedError,
    ForbiddenError,
    InputValidationError,
    IntegrityError,
    InternalServerError,
    LocalFileError,
    NotFoundError,
    ResponseValidationError,
    SfcConnectionError,
    SfcError,
    SfcTimeoutError,
    TransferError,
    UnauthorizedError,
    UnprocessableEntityError,
)

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

USAGE_ERROR = "UsageError"
"""The ``type`` of a JSON error for a bad command line; SDK failures use the SDK's class name."""

# The SDK names arguments as the functions spell them; the user typed command-line options.
_OPTION_NAMES = {
    "image_id": "ID",
    "name": "--name",
    "part_size": "--part-size",
    "concurrency": "--concurrency",
    "limit": "--limit",
    "page_size": "--limit",
    "path": "FILE",
    "dest": "--output",
}


class OutputError(Exception):
    """Results could not be written to stdout (a full disk, a closed terminal)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def error_line(message: str, kind: str, exit_code: int, *, as_json: bool) -> str:
    """What goes to stderr for an error: ``sfc: error: ...``, or with ``--json`` one JSON
    object, so that a script reading JSON gets JSON on failure too."""
    if as_json:
        error = {"type": kind, "message": message, "exit_code": exit_code}
        return json.dumps({"error": error})
    return f"sfc: error: {message}"


@frozen
class Problem:
    """What to print (one line, no prefix) and the exit code."""

    message: str
    exit_code: int


def _sentence(text: str) -> str:
    """``text`` on one line without its closing full stop, to be joined with others by ``; ``."""
    return one_line(text).rstrip(" .;")


def _api_detail(error: ApiError) -> str:
    """``: message; field: message`` from an API error, each fact said once.

    Servers often repeat the message in a field detail; printing both only makes the line longer.
    """
    said = [_sentence(error.message or "")]
    for detail in error.details:
        text = _sentence(detail.message)
        if detail.field and text and text not in said:
            said.append(f"{detail.field}: {text}")
    text = "; ".join(part for part in said if part)
    return f": {text}" if text else ""


def _timeout_reason(reason: str) -> str:
    """`` (reason)`` when it says more than that something timed out."""
    text = _sentence(reason)
    return "" if text.lower() in ("", "timed out", "timeout") else f" ({text})"


_RESUME = "run the same command again to resume"


def explain(
    action: str, error: SfcError, *, conflict_hint: str = "", resumable: bool = False
) -> Problem:
    """The line and exit code for ``error``, met while doing ``action`` (e.g. "get image_x").

    ``conflict_hint`` says what a 409 means for this command (a taken name, an unfinished
    upload); the status alone does not. ``resumable`` is for transfers, whose progress is kept:
    a failure that may pass (the network, a busy server) then ends with how to resume.
    """
    later = _RESUME if resumable else "try again later"
    match error:
        case InputValidationError(field="bearer_auth", rule=rule) if "required" in rule:
            return Problem(
                f"no API token: set {TOKEN_ENV} (or use --local for a local emulator)", EXIT_USAGE
            )
        case InputValidationError(field="bearer_auth", rule=rule):
            return Problem(f"{TOKEN_ENV} is not a usable token: it {rule}", EXIT_USAGE)
        case InputValidationError(field=field, rule=rule, value=value):
            got = f" (got {one_line(value)})" if value else ""
            name = _OPTION_NAMES.get(field, field)
            return Problem(f"cannot {action}: {name} {rule}{got}", EXIT_USAGE)
        case UnauthorizedError():
            return Problem(
                f"cannot {action}: the API rejected the token (401); check {TOKEN_ENV}",
                EXIT_FAILURE,
            )
        case ForbiddenError():
            return Problem(
                f"cannot {action}: this token may not do that (403){_api_detail(error)}; "
                "check the token's account and permissions",
                EXIT_FAILURE,
            )
        case NotFoundError():
            return Problem(
                f"cannot {action}: no such image (404); `sfc images list` shows your images",
                EXIT_FAILURE,
            )
        case ConflictError():
            hint = f"; {conflict_hint}" if conflict_hint else ""
            return Problem(
                f"cannot {action}: conflict (409){_api_detail(error)}{hint}", EXIT_FAILURE
            )
        case BadRequestError() | UnprocessableEntityError():
            return Problem(
                f"cannot {action}: the API refused the request "
                f"({error.status}){_api_detail(error)}",
                EXIT_FAILURE,
            )
        case InternalServerError():
            return Problem(
                f"cannot {action}: the server failed (500) even after retries; {later}",
                EXIT_FAILURE,
            )
        case ApiError(status=status) if status == 429 or status >= 500:
            return Problem(
                f"cannot {action}: the server is busy or failing ({status}) even after retries; "
                f"{later}",
                EXIT_FAILURE,
            )
        case ApiError(status=status):
            return Problem(
                f"cannot {action}: unexpected answer {status} from the API{_api_detail(error)}",
                EXIT_FAILURE,
            )
        case SfcConnectionError(url=url, reason=reason):
            then = f"; then {_RESUME}" if resumable else ""
            return Problem(
                f"cannot {action}: no connection to {url} ({_sentence(reason)}); "
                f"check --base-url / SFC_BASE_URL and the network{then}",
                EXIT_FAILURE,
            )
        case SfcTimeoutError(reason=reason):
            return Problem(
                f"cannot {action}: timed out{_timeout_reason(reason)}; {later}", EXIT_FAILURE
            )
        case ResponseValidationError(reason=reason):
            return Problem(
                f"cannot {action}: the server's answer does not match the API "
                f"({_sentence(reason)}); is --base-url the Images API?",
                EXIT_FAILURE,
            )
        case IntegrityError(reason=reason):
            return Problem(
                f"cannot {action}: the downloaded bytes do not match the image "
                f"({_sentence(reason)}); nothing was kept, run it again",
                EXIT_FAILURE,
            )
        case FileChangedError(reason=reason):
            return Problem(
                f"cannot {action}: the file changed while it was uploaded ({_sentence(reason)}); "
                "run it again once nothing writes to it",
                EXIT_FAILURE,
            )
        case LocalFileError(reason=reason):
            return Problem(f"cannot {action}: {one_line(reason)}", EXIT_FAILURE)
        case TransferError(cause=cause) if cause is not None:
            # The cause carries the advice (a 401 means the token, not the transfer), so the
            # line is the cause's, with the stage that met it.
            stage = error.stage if error.part is None else f"{error.stage} (part {error.part})"
            return explain(
                f"{action} [{stage}]", cause, conflict_hint=conflict_hint, resumable=resumable
            )
        case TransferError(reason=reason):
            stage = error.stage if error.part is None else f"{error.stage} (part {error.part})"
            then = f"; {_RESUME}" if resumable else ""
            return Problem(
                f"cannot {action}: {stage} failed: {_sentence(reason)}{then}", EXIT_FAILURE
            )
    return Problem(f"cannot {action}: {one_line(str(error))}", EXIT_FAILURE)
