"""The last mile's pages: dispatch and failed deliveries in the console, failed deliveries in the
portal, the rider app, and the public tracking page."""

from django.urls import URLPattern

ops: list[URLPattern] = []
portal: list[URLPattern] = []
site: list[URLPattern] = []
