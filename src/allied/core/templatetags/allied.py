from django import template

register = template.Library()


@register.filter
def startswith(value: str, prefixes: str) -> bool:
    """`request.path|startswith:"/ops/inbound/,/ops/picking/"`: true when the path is under any prefix."""
    return any(str(value).startswith(prefix) for prefix in prefixes.split(","))
