"""The privacy engine's pages: the privacy officer's in the console, the public notice, cookie
settings and data-subject requests at the site root."""

from django.urls import URLPattern

ops: list[URLPattern] = []
portal: list[URLPattern] = []
site: list[URLPattern] = []
