import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from leadcrm.roles import Role
from leads.lifecycle import Stage
from leads.models import (
    Activity,
    Campaign,
    CampaignCost,
    Channel,
    Company,
    Consent,
    Event,
    EventKind,
    Industry,
    Lead,
    Opportunity,
    StageTransition,
)
from leads.normalize import normalize_email


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct-horse-battery")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(Group.objects.get(name=extracted))


def user_with_role(role: Role, **kwargs):
    return UserFactory(role=role, **kwargs)


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    name = factory.Sequence(lambda n: f"Company {n} GmbH")
    domain = factory.Sequence(lambda n: f"company{n}.example")
    industry = Industry.SOFTWARE
    size_band = "51-200"


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    channel = Channel.WEBINAR


class CampaignCostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CampaignCost

    campaign = factory.SubFactory(CampaignFactory)
    incurred_on = factory.LazyFunction(lambda: timezone.localdate())
    amount = 1000


class LeadFactory(factory.django.DjangoModelFactory):
    """A lead row as it exists in the database; use leads.services to test behaviour."""

    class Meta:
        model = Lead

    @classmethod
    def _adjust_kwargs(cls, **kwargs):
        """The rank is the grade and a band (a database constraint): given one, derive the other."""
        if "rank" in kwargs and "grade" not in kwargs:
            kwargs["grade"] = kwargs["rank"][0]
        elif "grade" in kwargs and "rank" not in kwargs:
            kwargs["rank"] = f"{kwargs['grade']}4"
        return kwargs

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        """``fit_points`` and ``behaviour_score`` go to the lead's LeadScore row."""
        score = {
            name: kwargs.pop(name) for name in ("fit_points", "behaviour_score") if name in kwargs
        }
        lead = super()._create(model_class, *args, **kwargs)
        if score:
            for name, value in score.items():
                setattr(lead.score, name, value)
            lead.score.save(update_fields=list(score))
        return lead

    email = factory.Sequence(lambda n: f"lead{n}@example.com")
    email_key = factory.LazyAttribute(lambda lead: normalize_email(lead.email))
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    company = factory.SubFactory(CompanyFactory)
    stage = Stage.UNQUALIFIED
    # Sales stages always have an owner (a database constraint): a rep of their own by default.
    owner = factory.Maybe(
        factory.LazyAttribute(lambda lead: lead.stage in {Stage.SQL, Stage.OPPORTUNITY}),
        yes_declaration=factory.SubFactory(
            "tests.factories.UserFactory", role=Role.SALES_REP, username="owner-rep"
        ),
        no_declaration=None,
    )


class StageTransitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StageTransition

    lead = factory.SubFactory(LeadFactory)
    from_stage = Stage.UNQUALIFIED
    to_stage = Stage.MQL
    by_rule = "test"


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    lead = factory.SubFactory(LeadFactory)
    kind = EventKind.PAGE_VIEW
    url = "https://www.example.com/product"


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    lead = factory.SubFactory(LeadFactory)
    kind = Activity.Kind.CALL
    subject = "Discovery call"


class ConsentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Consent

    lead = factory.SubFactory(LeadFactory)
    purpose = Consent.Purpose.MARKETING_EMAIL
    status = Consent.Status.GRANTED
    source = Consent.Source.WEB_FORM


class OpportunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Opportunity

    lead = factory.SubFactory(LeadFactory, stage=Stage.OPPORTUNITY)
    name = factory.Sequence(lambda n: f"Deal {n}")
    amount = 12000
    expected_margin = 4000
