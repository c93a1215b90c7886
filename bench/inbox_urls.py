"""The project's URLs plus the bare JSON view of the ingestion benchmark."""

from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from config.urls import urlpatterns as project_urls


@csrf_exempt
def bare_json(request):
    """Parse a JSON body and answer JSON: the whole stack, no work."""
    import json

    return JsonResponse({"ok": bool(json.loads(request.body or b"{}"))}, status=201)


urlpatterns = [path("bench/bare-json/", bare_json), *project_urls]
