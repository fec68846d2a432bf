from django import template

register = template.Library()


@register.filter
def startswith(value: str, prefixes: str) -> bool:
    """`request.path|startswith:"/ops/inbound/,/ops/picking/"`: true when the path is under any prefix."""
    return any(str(value).startswith(prefix) for prefix in prefixes.split(","))


@register.filter
def words(value: str) -> str:
    """`event.type|words`: a code such as "handed_over" as words ("handed over") for people to read."""
    return str(value).replace("_", " ")
