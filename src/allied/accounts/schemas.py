from ninja import Schema


class OrganizationSchema(Schema):
    slug: str
    name: str
    kind: str


class MeSchema(Schema):
    organization: OrganizationSchema
    api_key_prefix: str
    scopes: list[str]
