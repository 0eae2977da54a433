"""A one-file Django site with production HTTPS settings, for devproxy's tests.

Run: python3 djangoapp.py runserver 127.0.0.1:PORT --noreload
TRUST_PROXY=1 adds SECURE_PROXY_SSL_HEADER, the fix the proxy recommends;
without it, SECURE_SSL_REDIRECT sends every proxied request into a loop.
"""
import os
import sys

from django.conf import settings
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.urls import path

settings.configure(
    DEBUG=False,
    SECRET_KEY="devproxy-test-only-" + "x" * 40,
    ALLOWED_HOSTS=["localhost", "127.0.0.1", "[::1]"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[],
    MIDDLEWARE=[
        "django.middleware.security.SecurityMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ],
    SECURE_SSL_REDIRECT=True,
    SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https") if os.environ.get("TRUST_PROXY") == "1" else None,
    CSRF_COOKIE_SECURE=True,
    SECURE_HSTS_SECONDS=31536000,
    SECURE_HSTS_INCLUDE_SUBDOMAINS=True,
    CSRF_TRUSTED_ORIGINS=[os.environ.get("ORIGIN", "https://localhost:8443")],
)


def index(request):
    get_token(request)  # sets the csrftoken cookie
    return HttpResponse("secure=%s host=%s" % (request.is_secure(), request.get_host()))


def form(request):
    return HttpResponse("posted")


urlpatterns = [path("", index), path("form", form)]

if __name__ == "__main__":
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
