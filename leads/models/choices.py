"""Choices shared by the lead models, forms, filters and the API."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    NEWSLETTER = "newsletter", _("Newsletter")
    WEBINAR = "webinar", _("Webinar")
    EBOOK = "ebook", _("E-book / white paper")
    SEO = "seo", _("SEO / organic search")
    SOCIAL = "social", _("Social media")
    ADS = "ads", _("Paid search / ads")
    COLD_EMAIL = "cold_email", _("Cold e-mail")
    COLD_CALL = "cold_call", _("Cold call")
    TRADE_FAIR = "trade_fair", _("Trade fair")
    REFERRAL = "referral", _("Referral")
    PURCHASED_LIST = "purchased_list", _("Purchased list")
    DIRECT = "direct", _("Direct / manual entry")
    OTHER = "other", _("Other")


class Grade(models.TextChoices):
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"
    D = "D", "D"


class Temperature(models.TextChoices):
    HOT = "hot", _("Hot")
    WARM = "warm", _("Warm")
    COLD = "cold", _("Cold")


class Seniority(models.TextChoices):
    UNKNOWN = "", _("Unknown")
    STAFF = "staff", _("Staff")
    MANAGER = "manager", _("Manager")
    DIRECTOR = "director", _("Director")
    VP = "vp", _("Vice president")
    C_LEVEL = "c_level", _("C-level / owner")


class CompanySize(models.TextChoices):
    UNKNOWN = "", _("Unknown")
    S1_10 = "1-10", _("1–10 employees")
    S11_50 = "11-50", _("11–50 employees")
    S51_200 = "51-200", _("51–200 employees")
    S201_1000 = "201-1000", _("201–1,000 employees")
    S1001_5000 = "1001-5000", _("1,001–5,000 employees")
    S5001_PLUS = "5001+", _("More than 5,000 employees")


class Industry(models.TextChoices):
    UNKNOWN = "", _("Unknown")
    SOFTWARE = "software", _("Software")
    IT_SERVICES = "it_services", _("IT services")
    TELECOMMUNICATIONS = "telecommunications", _("Telecommunications")
    MANUFACTURING = "manufacturing", _("Manufacturing")
    MECHANICAL_ENGINEERING = "mechanical_engineering", _("Mechanical engineering")
    AUTOMOTIVE = "automotive", _("Automotive")
    CHEMICALS = "chemicals", _("Chemicals")
    ENERGY = "energy", _("Energy")
    CONSTRUCTION = "construction", _("Construction")
    LOGISTICS = "logistics", _("Logistics")
    RETAIL = "retail", _("Retail and e-commerce")
    FINANCIAL_SERVICES = "financial_services", _("Financial services")
    INSURANCE = "insurance", _("Insurance")
    HEALTHCARE = "healthcare", _("Healthcare")
    PHARMA = "pharma", _("Pharmaceuticals")
    CONSULTING = "consulting", _("Consulting")
    EDUCATION = "education", _("Education")
    PUBLIC_SECTOR = "public_sector", _("Public sector")
    MEDIA = "media", _("Media and publishing")
    HOSPITALITY = "hospitality", _("Hospitality and tourism")
    REAL_ESTATE = "real_estate", _("Real estate")
    NON_PROFIT = "non_profit", _("Non-profit")
    OTHER = "other", _("Other")


class Language(models.TextChoices):
    """The languages LeadCRM speaks to a lead in (e-mails, landing pages): settings.LANGUAGES."""

    ENGLISH = "en", _("English")
    GERMAN = "de", _("German")


class AgeBand(models.TextChoices):
    UNKNOWN = "", _("Unknown")
    A18_24 = "18-24", "18–24"
    A25_34 = "25-34", "25–34"
    A35_44 = "35-44", "35–44"
    A45_54 = "45-54", "45–54"
    A55_64 = "55-64", "55–64"
    A65_PLUS = "65+", "65+"
