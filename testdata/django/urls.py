"""One view for every path; the Go twin in django_test.go does the same."""
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.urls import re_path
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def view(request):
    path = request.path
    if path == "/cookies":
        # Django's own two cookies, one the app sets without attributes,
        # and one that asks for cross-site use itself.
        request.session["visits"] = 1
        get_token(request)
        response = HttpResponse("cookies")
        response.set_cookie("pref", "dark")
        response.set_cookie("widget", "1", samesite="None", secure=True)
        return response
    if path == "/own-headers":
        # Headers the view sets win over the middleware's.
        response = HttpResponse("own")
        response["X-Frame-Options"] = "SAMEORIGIN"
        response["Referrer-Policy"] = "no-referrer"
        response["Strict-Transport-Security"] = "max-age=60"
        return response
    response = HttpResponse("ok")
    if path == "/embed":
        response.xframe_options_exempt = True
    return response


urlpatterns = [re_path(r"", view)]
