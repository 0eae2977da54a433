"""A minimal Django 3.2 project for httpsguard's differential test.

Usage: python3 serve.py SETTINGS.json serve   -> prints the port, then serves
       python3 serve.py SETTINGS.json check   -> prints the IDs "check --deploy" reports

SETTINGS.json holds the scenario's security settings; everything else is
what "django-admin startproject" would give a project that keeps sessions in
signed cookies (so that no database is needed).
"""
import json
import sys

import django
from django.conf import settings

scenario = json.load(open(sys.argv[1]))
if "SECURE_PROXY_SSL_HEADER" in scenario and scenario["SECURE_PROXY_SSL_HEADER"] is not None:
    scenario["SECURE_PROXY_SSL_HEADER"] = tuple(scenario["SECURE_PROXY_SSL_HEADER"])

settings.configure(
    DEBUG=False,
    SECRET_KEY="httpsguard-differential-test-8c1f0e6b2a9d4e7f93b5c6a1d0e2f4a8b7c9",
    ROOT_URLCONF="urls",
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.sessions"],
    MIDDLEWARE=[
        "django.middleware.security.SecurityMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ],
    SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
    DATABASES={},
    LOGGING_CONFIG=None,
    **scenario,
)
django.setup()

if sys.argv[2] == "check":
    from django.core import checks

    ids = sorted({m.id for m in checks.run_checks(include_deployment_checks=True)})
    print(json.dumps(ids))
    sys.exit(0)

from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer
from django.core.wsgi import get_wsgi_application


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


server = WSGIServer(("127.0.0.1", 0), QuietHandler)
server.set_app(get_wsgi_application())
print(server.server_port, flush=True)
server.serve_forever()
