"""Security headers: a Content-Security-Policy without inline script on every page, no caching of pages for
someone signed in, and the HTTPS settings off by default for the embedded http://127.0.0.1 run."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from huanxin.conftest import client_for

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "huanxin"


def _directives(policy: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def test_every_page_carries_a_policy_that_runs_only_the_sites_own_scripts(personas):
    for response in (Client().get("/"), Client().get("/accounts/login/"), client_for(personas.reviewer).get("/")):
        directives = _directives(response["Content-Security-Policy"])
        assert directives["script-src"] == ["'self'"]
        assert directives["style-src"] == ["'self'"]
        assert directives["object-src"] == ["'none'"]
        assert directives["frame-ancestors"] == ["'none'"]


def test_a_page_for_someone_signed_in_is_not_cached_and_a_public_page_is(personas):
    assert "no-store" in client_for(personas.reviewer).get("/subsidies/search/")["Cache-Control"]
    assert "no-store" in client_for(personas.manager).get("/merchant/enrolment/")["Cache-Control"]
    assert "Cache-Control" not in Client().get("/")


def test_no_template_has_inline_script_handlers_or_styles():
    """The policy refuses them; a template that brings one back breaks in the browser, so it fails here."""
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
    handler = re.compile(r"\son[a-z]+\s*=", re.I)
    style = re.compile(r"<style|\sstyle\s*=", re.I)
    offending = []
    for path in TEMPLATES.rglob("templates/**/*.html"):
        text = path.read_text(encoding="utf-8")
        for pattern in (inline_script, handler, style):
            if pattern.search(text):
                offending.append(f"{path.relative_to(TEMPLATES)}: {pattern.pattern}")
    assert offending == []


def test_https_settings_are_off_for_the_embedded_run():
    assert (settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_SECONDS) == (False, 0)
