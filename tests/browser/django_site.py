"""A Django site protected by two real captcha packages, used as their READMEs show and
unchanged but for their URL settings:

- django-recaptcha (PyPI, pinned): `ReCaptchaField` with the `ReCaptchaV2Checkbox`
  widget; its one URL setting, RECAPTCHA_DOMAIN, is the host of both
  `https://{RECAPTCHA_DOMAIN}/recaptcha/api.js` and `.../recaptcha/api/siteverify`;
- django-turnstile (PyPI, pinned): `TurnstileField`; TURNSTILE_JS_API_URL and
  TURNSTILE_VERIFY_URL (read once, when the package is imported).

Served on loopback by wsgiref in a thread: GET /recaptcha or /turnstile is the sign-up
form, its POST answers "welcome NAME" (the package's verify accepted the token) or
HTTP 400 "refused" with the form's errors.
"""
from __future__ import annotations

import threading
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

PAGE = ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign up</title></head>'
        '<body><form method="post" action="">{form}<button id="send">Sign up</button></form>'
        '</body></html>')


def configure(api_base: str, site_key: str, secret: str, recaptcha_domain: str) -> None:
    """Django's settings, once per process (django-turnstile reads its own at import)."""
    import django
    from django.conf import settings

    if settings.configured:
        return
    settings.configure(
        DEBUG=False, ALLOWED_HOSTS=["127.0.0.1"], SECRET_KEY="browser-tests-only",
        ROOT_URLCONF=__name__, MIDDLEWARE=[], USE_I18N=False,
        INSTALLED_APPS=["django_recaptcha", "turnstile"],
        TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}],
        # The URL settings, and the keys of the site.
        RECAPTCHA_DOMAIN=recaptcha_domain,
        RECAPTCHA_PUBLIC_KEY=site_key, RECAPTCHA_PRIVATE_KEY=secret,
        TURNSTILE_JS_API_URL=f"{api_base}/turnstile/v0/api.js",
        TURNSTILE_VERIFY_URL=f"{api_base}/turnstile/v0/siteverify",
        TURNSTILE_SITEKEY=site_key, TURNSTILE_SECRET=secret,
    )
    django.setup()


def _form_class(kind: str) -> Any:
    """The sign-up form, built per request so it reads the keys in force."""
    from django import forms

    if kind == "recaptcha":
        from django_recaptcha.fields import ReCaptchaField
        from django_recaptcha.widgets import ReCaptchaV2Checkbox

        captcha: Any = ReCaptchaField(widget=ReCaptchaV2Checkbox)
    else:
        from turnstile.fields import TurnstileField

        captcha = TurnstileField()
    return type("SignUp", (forms.Form,), {"name": forms.CharField(), "captcha": captcha})


def _view(kind: str) -> Any:
    def sign_up(request: Any) -> Any:
        from django.http import HttpResponse

        form_class = _form_class(kind)
        if request.method != "POST":
            return HttpResponse(PAGE.format(form=form_class()))
        form = form_class(request.POST)
        if form.is_valid():
            return HttpResponse(f"welcome {form.cleaned_data['name']}")
        return HttpResponse(f"refused {form.errors.as_text()}", status=400)
    return sign_up


def _urls() -> list[Any]:
    from django.urls import path

    return [path("recaptcha", _view("recaptcha")), path("turnstile", _view("turnstile"))]


def __getattr__(name: str) -> Any:  # Django reads ROOT_URLCONF's urlpatterns once set up
    if name == "urlpatterns":
        return _urls()
    raise AttributeError(name)


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


class DjangoSite:
    """`with DjangoSite() as site:` site.url serves the app on loopback."""

    def __init__(self) -> None:
        from django.core.wsgi import get_wsgi_application

        self.server: WSGIServer = make_server("127.0.0.1", 0, get_wsgi_application(),
                                              handler_class=_Quiet)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> DjangoSite:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
