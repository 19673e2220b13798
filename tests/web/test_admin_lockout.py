"""Wrong admin passwords lock the username out from that address (django-axes), over
real HTTP."""

import pytest

from tests.http_browser import Browser

pytestmark = pytest.mark.django_db(transaction=True)


def test_admin_login_locks_out_after_ten_wrong_passwords(live_server, django_user_model):
    django_user_model.objects.create_superuser("root", "root@example.com", "a long admin password")
    browser = Browser(live_server.url)
    for attempt in range(1, 11):
        token = browser.form_token("/admin/login/")
        fields = {"csrfmiddlewaretoken": token, "username": "root", "password": "wrong"}
        response = browser.post_form("/admin/login/", fields)
        if attempt < 10:
            assert response.status == 200 and b"Please enter the correct" in response.body, attempt
    assert response.status == 429, response.body[:300]
    token = browser.cookies["csrftoken"]
    right = browser.post_form(
        "/admin/login/", {"csrfmiddlewaretoken": token, "username": "root", "password": "a long admin password"}
    )
    assert right.status == 429 and b"too many login attempts" in right.body
    # Another username from the same address is not locked (username + address).
    django_user_model.objects.create_superuser("other", "o@example.com", "another long password")
    other = browser.post_form(
        "/admin/login/",
        {"csrfmiddlewaretoken": token, "username": "other", "password": "another long password", "next": "/admin/"},
    )
    assert other.status == 302
