"""Error pages: problem+json under /api/, Allied's own pages elsewhere."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from allied.core.problems import problem_response, simple_problem


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/api/"):
        return problem_response(request, simple_problem(404, "Not found", "No such resource.", "not_found"))
    return render(request, "errors/404.html", status=404)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/api/"):
        return problem_response(request, simple_problem(403, "Not allowed", "Not allowed.", "permission_denied"))
    return render(request, "errors/403.html", status=403)
