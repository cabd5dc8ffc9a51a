from .base import BusinessModel, BusinessQuerySet, ChangeLoggedModel, OwnedModel, ScopedQuerySet  # noqa: F401
from .changelog import ObjectChange  # noqa: F401
from .customfields import CustomField, CustomFieldsMixin  # noqa: F401
from .files import Attachment  # noqa: F401
from .lookups import Lookup, Tag  # noqa: F401
from .views import SavedView  # noqa: F401
