"""The n-gram index behind name-fragment search.

Chinese names are not split into words, and neither SQLite FTS5 (one token per CJK run; trigrams need 3+
characters) nor PostgreSQL pg_trgm (CJK ignored under the C locale) finds a 2-character fragment such as 王伟
through an index. So every searchable object's normalised name is stored here as its character bigrams plus
its last character alone: a 2-character query is one primary-key range, a longer query is driven by its
rarest bigram and verified with a substring match on the candidates, and a 1-character query is a prefix
range over the grams. The primary key (kind, gram, object_id) is the only index (WITHOUT ROWID on SQLite).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SearchGram(models.Model):
    pk = models.CompositePrimaryKey("kind", "gram", "object_id")
    kind = models.PositiveSmallIntegerField(_("object kind"), help_text=_("The search provider's kind code."))
    gram = models.CharField(_("gram"), max_length=2)
    object_id = models.BigIntegerField(_("object id"))

    class Meta:
        verbose_name = _("search gram")
        verbose_name_plural = _("search grams")

    def __str__(self):
        return f"{self.kind}:{self.gram}:{self.object_id}"
