import factory
from allauth.account.models import EmailAddress

from allied.accounts.models import Membership, Organization, User
from allied.accounts.roles import OrganizationKind, Role

PASSWORD = "correct-horse-battery-staple"


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Partner {n}")
    slug = factory.Sequence(lambda n: f"partner-{n}")
    kind = OrganizationKind.PARTNER


class OperatorOrganizationFactory(OrganizationFactory):
    name = "Allied E-Commerce Solutions"
    slug = "aes"
    kind = OrganizationKind.OPERATOR


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified_email(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.save()
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Role.OWNER


class OperatorMembershipFactory(MembershipFactory):
    organization = factory.SubFactory(OperatorOrganizationFactory)
    role = Role.DISPATCHER
