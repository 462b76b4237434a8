from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadcrmConfig(AppConfig):
    name = "leadcrm"
    verbose_name = _("LeadCRM")
