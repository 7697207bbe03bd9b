"""Logging in and out, CSRF protection, safe redirects, cookies and the language switch."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.unit.web.conftest import csrf_of
from tests.unit.web.web_seed import PASSWORD, World, context_from

from mamori.api.app import create_app
from mamori.bootstrap import Context
from mamori.web.session_pages import LOGIN_CSRF_COOKIE, local_path


def _cookie_headers(response: object, name: str) -> list[str]:
    headers = response.headers.get_list("set-cookie")  # type: ignore[attr-defined]
    return [h for h in headers if h.startswith(f"{name}=")]


def test_pages_redirect_to_login_when_not_logged_in(anonymous: TestClient) -> None:
    response = anonymous.get("/intel")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/intel"


def test_login_opens_a_session_with_secure_cookie_flags(anonymous: TestClient) -> None:
    form = anonymous.get("/login")
    response = anonymous.post("/login", data={"username": "analyst", "password": PASSWORD,
                                              "csrf_token": csrf_of(form.text), "next": "/intel?q=lantern"})
    assert response.status_code == 303
    assert response.headers["location"] == "/intel?q=lantern"
    (session_cookie,) = _cookie_headers(response, "mamori_session")
    assert "HttpOnly" in session_cookie
    assert "SameSite=lax" in session_cookie
    assert "Secure" not in session_cookie  # development over plain HTTP
    assert anonymous.get("/intel").status_code == 200


def test_cookies_are_secure_in_production(seeded: tuple[Path, World], tmp_path: Path) -> None:
    prod = context_from(seeded[0], tmp_path / "production", env="production")
    try:
        client = TestClient(create_app(prod), base_url="https://testserver", follow_redirects=False)
        form = client.get("/login")
        (csrf_cookie,) = _cookie_headers(form, LOGIN_CSRF_COOKIE)
        assert "Secure" in csrf_cookie and "HttpOnly" in csrf_cookie
        response = client.post("/login", data={"username": "analyst", "password": PASSWORD,
                                               "csrf_token": csrf_of(form.text)})
        (session_cookie,) = _cookie_headers(response, "mamori_session")
        assert "Secure" in session_cookie and "HttpOnly" in session_cookie and "SameSite=lax" in session_cookie
    finally:
        prod.close()


def test_login_without_the_form_token_is_refused_and_opens_no_session(anonymous: TestClient) -> None:
    anonymous.get("/login")
    response = anonymous.post("/login", data={"username": "analyst", "password": PASSWORD})
    assert response.status_code == 403
    assert "text/html" in response.headers["content-type"]
    assert not _cookie_headers(response, "mamori_session")
    assert anonymous.get("/").status_code == 303


def test_login_with_a_token_that_does_not_match_the_cookie_is_refused(anonymous: TestClient) -> None:
    anonymous.get("/login")
    response = anonymous.post("/login", data={"username": "analyst", "password": PASSWORD,
                                              "csrf_token": "forged-token-forged-token-forged-token"})
    assert response.status_code == 403
    assert not _cookie_headers(response, "mamori_session")


def test_wrong_password_shows_a_clear_error_and_opens_no_session(anonymous: TestClient) -> None:
    form = anonymous.get("/login", headers={"accept-language": "en"})
    response = anonymous.post("/login", headers={"accept-language": "en"},
                              data={"username": "analyst", "password": "wrong password!",
                                    "csrf_token": csrf_of(form.text)})
    assert response.status_code == 200
    assert "Wrong user name or password." in response.text
    assert 'value="analyst"' in response.text  # the user name is kept, the password is not
    assert "wrong password!" not in response.text
    assert not _cookie_headers(response, "mamori_session")


def test_empty_login_form_asks_for_both_fields(anonymous: TestClient) -> None:
    form = anonymous.get("/login")
    response = anonymous.post("/login", data={"username": "", "password": "", "csrf_token": csrf_of(form.text)})
    assert "ユーザー名とパスワードを入力してください。" in response.text
    assert not _cookie_headers(response, "mamori_session")


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example",
                                    "javascript:alert(1)", "intel", "/intel\r\nSet-Cookie: x=1"])
def test_login_never_redirects_off_site(anonymous: TestClient, target: str) -> None:
    form = anonymous.get("/login")
    response = anonymous.post("/login", data={"username": "analyst", "password": PASSWORD,
                                              "csrf_token": csrf_of(form.text), "next": target})
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_local_path_keeps_paths_with_queries() -> None:
    assert local_path("/intel?q=a&type=indicator") == "/intel?q=a&type=indicator"
    assert local_path(None) == "/"
    assert local_path("http:/intel") == "/"


def test_login_page_redirects_a_logged_in_user(logged_in: Callable[[str], TestClient]) -> None:
    client = logged_in("analyst")
    response = client.get("/login?next=/intel")
    assert response.status_code == 303
    assert response.headers["location"] == "/intel"


def test_logout_without_csrf_token_is_refused_and_keeps_the_session(logged_in: Callable[[str], TestClient]) -> None:
    client = logged_in("analyst")
    response = client.post("/logout")
    assert response.status_code == 403
    assert "CSRF" in response.text
    assert client.get("/").status_code == 200


def test_logout_closes_the_session(logged_in: Callable[[str], TestClient], ctx: Context) -> None:
    client = logged_in("analyst")
    sid = client.cookies.get("mamori_session")
    token = csrf_of(client.get("/").text)
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    client.cookies.set("mamori_session", sid)  # even a copy of the old cookie no longer works
    assert client.get("/").status_code == 303


def test_language_switch_stores_the_choice_and_returns_to_the_page(
    logged_in: Callable[[str], TestClient], ctx: Context
) -> None:
    client = logged_in("analyst")
    page = client.get("/intel")
    assert "脅威インテリジェンス" in page.text
    response = client.post("/settings/language",
                           data={"csrf_token": csrf_of(page.text), "locale": "en", "next": "/intel?q=lantern"})
    assert response.status_code == 303
    assert response.headers["location"] == "/intel?q=lantern"
    assert ctx.identity.user("analyst").locale == "en"
    english = client.get("/intel?q=lantern")
    assert "<html lang=\"en\">" in english.text
    assert ">Intelligence<" in english.text
    assert english.headers["content-language"] == "en"


def test_language_switch_refuses_an_unknown_locale_and_changes_nothing(
    logged_in: Callable[[str], TestClient], ctx: Context
) -> None:
    client = logged_in("analyst")
    token = csrf_of(client.get("/").text)
    response = client.post("/settings/language", data={"csrf_token": token, "locale": "fr"})
    assert response.status_code == 400
    assert "unknown locale" in response.text
    assert ctx.identity.user("analyst").locale == "ja"


def test_language_switch_needs_the_csrf_token(logged_in: Callable[[str], TestClient], ctx: Context) -> None:
    client = logged_in("analyst")
    response = client.post("/settings/language", data={"locale": "en"})
    assert response.status_code == 403
    assert ctx.identity.user("analyst").locale == "ja"


def test_login_page_speaks_the_browsers_language_or_the_one_chosen(anonymous: TestClient) -> None:
    assert "mamori にログイン" in anonymous.get("/login").text  # settings.default_locale
    assert "Log in to mamori" in anonymous.get("/login", headers={"accept-language": "en-GB,en;q=0.8"}).text
    chosen = anonymous.get("/login?lang=en")
    assert "Log in to mamori" in chosen.text
    assert "mamori_locale=en" in chosen.headers.get("set-cookie", "")
    assert "Log in to mamori" in anonymous.get("/login", headers={"accept-language": "ja"}).text  # cookie wins


def test_each_user_sees_the_ui_in_their_own_language(logged_in: Callable[[str], TestClient]) -> None:
    assert '<html lang="en">' in logged_in("english").get("/").text
    assert '<html lang="ja">' in logged_in("analyst").get("/").text


def test_logging_in_closes_the_session_the_browser_already_carried(
    anonymous: TestClient, logged_in: Callable[[str], TestClient]
) -> None:
    planted = logged_in("commissioner").cookies.get("mamori_session")
    form = anonymous.get("/login")
    anonymous.cookies.set("mamori_session", planted)
    response = anonymous.post("/login", data={"username": "analyst", "password": PASSWORD,
                                              "csrf_token": csrf_of(form.text)})
    fresh = response.cookies.get("mamori_session")
    assert response.status_code == 303
    assert fresh and fresh != planted
    anonymous.cookies.clear()
    anonymous.cookies.set("mamori_session", planted)
    assert anonymous.get("/").status_code == 303  # the planted session is gone
    anonymous.cookies.clear()
    anonymous.cookies.set("mamori_session", fresh)
    assert anonymous.get("/").status_code == 200
