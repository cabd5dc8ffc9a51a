from django.db import models
from django.utils.translation import gettext_lazy as _


class HandoverMode(models.TextChoices):
    ONE = "one", _("All to one successor")
    SPLIT = "split", _("Split evenly among several")
    POOL = "pool", _("Return to the public pool")
