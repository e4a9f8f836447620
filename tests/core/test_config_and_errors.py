"""Configuration, error values and redaction: what a user sees when printing things."""

from __future__ import annotations

import asyncio
import pickle

import httpx
import pytest

from sfc_core import (
    BadRequestError,
    ConflictError,
    ErrorDetail,
    ForbiddenError,
    InputValidationError,
    IntegrityError,
    InternalServerError,
    NotFoundError,
    RequestOptions,
    ResponseValidationError,
    RetryConfig,
    Security,
    SfcConnectionError,
    SfcCore,
    SfcDefaultError,
    SfcError,
    SfcException,
    SfcTimeoutError,
    TransferError,
    UnauthorizedError,
    UnprocessableEntityError,
)
from sfc_core._redact import redact_url

TOKEN = "sk-live-VERYSECRET"


def test_the_token_comes_from_the_environment_and_never_shows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SFC_VMORCH_BEARER_AUTH", TOKEN)
    core = SfcCore()
    assert core.bearer_auth == TOKEN
    assert TOKEN not in repr(core)
    assert TOKEN not in str(core)
    assert "bearer_auth='<redacted>'" in repr(core)


def test_an_explicit_token_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SFC_VMORCH_BEARER_AUTH", "from-env")
    assert SfcCore(bearer_auth="given").bearer_auth == "given"


def test_an_empty_environment_token_counts_as_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SFC_VMORCH_BEARER_AUTH", "")
    assert SfcCore().bearer_auth is None
    assert "bearer_auth=None" in repr(SfcCore())


@pytest.mark.parametrize(
    "url",
    [
        "ftp://x",
        "api.sfcompute.com",
        "https://api.example.com?x=1",
        "https://u:p@api.example.com",
        "https://h/#f",
    ],
)
def test_bad_server_urls_are_refused_at_construction(url: str) -> None:
    with pytest.raises(ValueError, match="server_url"):
        SfcCore(server_url=url, bearer_auth="t")


def test_a_server_url_path_prefix_is_kept_and_trailing_slash_dropped() -> None:
    assert (
        SfcCore(server_url="https://h.example/preview/", bearer_auth="t").server_url
        == "https://h.example/preview"
    )


@pytest.mark.parametrize(
    "settings",
    [{"timeout": 0}, {"timeout": -1}, {"deadline": 0}],
)
def test_bad_timeouts_are_refused(settings: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="positive"):
        SfcCore(bearer_auth="t", **settings)  # type: ignore[arg-type]


def test_retry_config_rules() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryConfig(max_attempts=0)
    with pytest.raises(ValueError, match="exponent"):
        RetryConfig(exponent=0.5)
    assert RetryConfig.off().enabled is False


def test_request_options_refuse_credentials_and_header_injection() -> None:
    with pytest.raises(ValueError, match="security"):
        RequestOptions(headers={"Authorization": "Bearer x"})
    with pytest.raises(ValueError, match="line break"):
        RequestOptions(headers={"X-A": "v\r\nInjected: 1"})
    with pytest.raises(ValueError, match="positive"):
        RequestOptions(timeout=0)


def test_the_core_owns_and_closes_its_clients_but_not_injected_ones() -> None:
    core = SfcCore(bearer_auth="t")
    first = core.http_client()
    assert core.http_client() is first
    core.close()
    assert first.is_closed
    assert core.http_client() is not first
    core.close()

    injected = httpx.Client()
    with SfcCore(bearer_auth="t", client=injected) as mine:
        assert mine.http_client() is injected
    assert not injected.is_closed
    injected.close()


def test_the_async_client_follows_the_running_loop() -> None:
    core = SfcCore(bearer_auth="t")

    async def grab() -> httpx.AsyncClient:
        return core.async_http_client()

    async def grab_twice() -> bool:
        return core.async_http_client() is core.async_http_client()

    first = asyncio.run(grab())
    assert asyncio.run(grab_twice())
    assert asyncio.run(grab()) is not first

    async def close() -> None:
        async with core:
            pass

    asyncio.run(close())


def test_with_options_copies_settings_and_gets_its_own_clients() -> None:
    core = SfcCore(bearer_auth="t")
    other = core.with_options(timeout=5.0)
    assert other.timeout == 5.0
    assert other.bearer_auth == "t"
    assert other.http_client() is not core.http_client()
    core.close()
    other.close()


ERRORS: list[SfcError] = [
    cls(
        status=status,
        method="GET",
        path="/v2/images/image_a",
        error_type="t",
        message="m",
        details=(ErrorDetail(field="name", code="c", message="bad"),),
        headers={"X-A": "1"},
        body=b"{}",
    )
    for cls, status in [
        (BadRequestError, 400),
        (UnauthorizedError, 401),
        (ForbiddenError, 403),
        (NotFoundError, 404),
        (ConflictError, 409),
        (UnprocessableEntityError, 422),
        (InternalServerError, 500),
        (SfcDefaultError, 418),
    ]
] + [
    SfcConnectionError(
        method="PUT", url="https://s.example/p?X-Amz-Signature=SIG&x-id=1", reason="reset"
    ),
    SfcTimeoutError(method="GET", url="https://api.example/v2/images", reason="read timed out"),
    ResponseValidationError(
        status=200, method="GET", path="/v2/images", reason="bad", body=b"x" * 500
    ),
    InputValidationError(field="name", rule="must be 1 to 255 characters", value="''"),
    TransferError(stage="upload part", reason="403 forbidden", part=3),
    IntegrityError(
        stage="verify", reason="sha256 mismatch", expected_sha256="a" * 64, actual_sha256="b" * 64
    ),
]


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: type(e).__name__)
def test_every_error_prints_one_line_without_secrets(error: SfcError) -> None:
    text = str(error)
    assert "\n" not in text
    assert text.startswith(type(error).__name__)
    assert "SIG" not in text
    assert "SIG" not in repr(error)
    assert len(repr(error)) < 2000


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: type(e).__name__)
def test_errors_are_values_that_can_be_raised(error: SfcError) -> None:
    assert error == pickle.loads(pickle.dumps(error))
    assert hash(error) == hash(pickle.loads(pickle.dumps(error)))
    with pytest.raises(SfcException) as caught:
        raise error.exception()
    assert caught.value.error is error
    assert str(caught.value) == str(error)


def test_error_classes_are_distinct_even_with_equal_fields() -> None:
    a = NotFoundError(status=404, method="GET", path="/x")
    assert a == NotFoundError(status=404, method="GET", path="/x")
    other: SfcError = SfcDefaultError(status=404, method="GET", path="/x")
    assert a != other
    assert NotFoundError.status_code == 404


def test_api_error_lines_name_details() -> None:
    error = ERRORS[0]
    assert str(error) == "BadRequestError: GET /v2/images/image_a answered 400 [t] m (name: bad)"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://s.example/b/k?X-Amz-Signature=abc&X-Amz-Expires=60",
            "https://s.example/b/k?X-Amz-Signature=<redacted>&X-Amz-Expires=60",
        ),
        (
            "http://127.0.0.1:9/_storage/p?expires=5&sig=deadbeef",
            "http://127.0.0.1:9/_storage/p?expires=5&sig=<redacted>",
        ),
        ("https://s.example/b?unknown=value", "https://s.example/b?unknown=<redacted>"),
        ("https://user:pw@s.example/b", "https://<redacted>@s.example/b"),
        ("https://api.example/v2/images?limit=5", "https://api.example/v2/images?limit=5"),
        ("https://api.example/v2/images", "https://api.example/v2/images"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_redact_url_survives_garbage() -> None:
    assert redact_url("http://[::1") == "<redacted>"


def test_security_repr_is_redacted() -> None:
    assert TOKEN not in repr(Security(bearer_auth=TOKEN))
