import pytest
from django.contrib.contenttypes.models import ContentType

from yingdan.core.models import ObjectChange
from yingdan.core.text import normalize, pinyin_keys
from yingdan.core.validators import normalize_phone, validate_credit_code
from yingdan.customers.models import Contact, Customer
from yingdan.demo import scale
from yingdan.org.models import User
from yingdan.search.grams import name_grams
from yingdan.search.models import SearchGram
from yingdan.search.services import search

pytestmark = pytest.mark.django_db


def check_generated():
    customers = list(Customer.objects.all())
    assert customers
    for c in customers:
        validate_credit_code(c.credit_code)
        assert normalize_phone(c.phone) == c.phone
        assert c.search_name == normalize(c.name)
        assert (c.search_pinyin, c.search_initials) == pinyin_keys(c.name), c.name
        assert c.owner_id and c.department_id == c.owner.department_id
        grams = set(SearchGram.objects.filter(kind=1, object_id=c.pk).values_list("gram", flat=True))
        assert grams == name_grams(c.search_name)
    for contact in Contact.objects.all()[:200]:
        assert normalize_phone(contact.mobile) == contact.mobile and len(contact.mobile) == 11
        assert (contact.search_pinyin, contact.search_initials) == pinyin_keys(contact.name), contact.name
        assert set(SearchGram.objects.filter(kind=2, object_id=contact.pk).values_list("gram", flat=True)) == name_grams(contact.name)
        if contact.email:
            Contact(email=contact.email).clean_fields(exclude=[f.name for f in Contact._meta.fields if f.name != "email"])


@pytest.mark.parametrize("rebuild", [False, True], ids=["batched", "bulk-load"])
def test_generate_appends_valid_searchable_data(rebuild, monkeypatch):
    monkeypatch.setattr(scale, "REBUILD_MIN", 1 if rebuild else 10**9)
    result = scale.generate(40, seed=1)
    assert result["customers"] == 40 and Customer.objects.count() == 40
    assert 40 <= Contact.objects.count() <= 200
    assert User.objects.filter(username__startswith="scale").count() == scale.TARGET_OWNERS
    generated_types = [ContentType.objects.get_for_model(m) for m in (Customer, Contact)]
    assert not ObjectChange.objects.filter(content_type__in=generated_types).exists()  # no change log
    scale.generate(30, seed=2)  # re-runnable: appends, no new users
    assert Customer.objects.count() == 70
    assert User.objects.filter(username__startswith="scale").count() == scale.TARGET_OWNERS
    check_generated()
    # The generated data is found by the global search as any other.
    customer = Customer.objects.order_by("?").first()
    director = User.objects.create(username="boss", is_superuser=True)
    hits = {g.key: g for g in search(director, customer.search_initials, limit=100)}["customers"].hits
    assert customer.pk in {h.obj.pk for h in hits}
    fragment = customer.search_name[1:3]
    hits = {g.key: g for g in search(director, fragment, limit=100)}["customers"].hits
    assert hits and all(fragment in h.obj.search_name for h in hits)


def test_invalid_field_without_default_is_reported():
    with pytest.raises(ValueError, match="no columns"):
        scale.BulkTable(Customer, ["id", "nonexistent"])
