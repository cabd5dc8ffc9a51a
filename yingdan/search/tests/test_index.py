import io

import pytest
from django.core.management import call_command
from django.db import connection

from yingdan.core.tests.factories import make_contact, make_customer
from yingdan.customers.models import Contact, Customer
from yingdan.search.grams import name_grams
from yingdan.search.models import SearchGram
from yingdan.search.providers import ContactSearchProvider, CustomerSearchProvider
from yingdan.search.services import search

pytestmark = pytest.mark.django_db
CUSTOMER, CONTACT = CustomerSearchProvider.kind, ContactSearchProvider.kind


def grams_of(kind, pk):
    return set(SearchGram.objects.filter(kind=kind, object_id=pk).values_list("gram", flat=True))


def names(user, q, key):
    groups = {g.key: g for g in search(user, q)}
    return sorted(h.title for h in groups[key].hits) if key in groups else []


def test_name_grams():
    assert name_grams("王伟") == {"王伟", "伟"}
    assert name_grams("腾讯科技") == {"腾讯", "讯科", "科技", "技"}
    assert name_grams("") == set()


def test_grams_written_on_create(org, data):
    assert grams_of(CUSTOMER, data["tencent"].pk) == {"腾讯", "讯科", "科技", "技"}
    assert grams_of(CONTACT, data["wang"].pk) == {"王伟", "伟"}


def test_index_follows_a_rename(org, data):
    rep = org["rep_east"]
    customer = data["tencent"]
    customer.name = "字节跳动"
    customer.save()
    assert grams_of(CUSTOMER, customer.pk) == {"字节", "节跳", "跳动", "动"}
    assert names(rep, "腾讯", "customers") == []
    assert names(rep, "txkj", "customers") == []
    assert names(rep, "跳动", "customers") == ["字节跳动"]
    assert names(rep, "zjtd", "customers") == ["字节跳动"]


def test_index_follows_deletes_including_cascaded_contacts(org, data):
    rep = org["rep_east"]
    customer, contact = data["tencent"], data["wang"]
    data["wangming"].delete()
    assert grams_of(CONTACT, data["wangming"].pk) == set()
    assert names(rep, "王伟", "contacts") == ["王伟"]
    customer.delete()  # cascades to its contact 王伟
    assert grams_of(CUSTOMER, customer.pk) == set()
    assert grams_of(CONTACT, contact.pk) == set()
    assert names(rep, "王伟", "contacts") == []
    assert names(rep, "腾讯", "customers") == []


def test_reindex_command_rebuilds_everything(org, data):
    SearchGram.objects.all().delete()
    Customer.objects.filter(pk=data["huawei"].pk).update(name="中兴通讯", search_name="中兴通讯")  # bypassing save
    out = io.StringIO()
    call_command("search_reindex", stdout=out)
    assert "customers: 4 objects indexed" in out.getvalue() and "contacts: 4 objects indexed" in out.getvalue()
    expected = sum(len(name_grams(n)) for n in Customer.objects.values_list("search_name", flat=True))
    expected += sum(len(name_grams(n)) for n in Contact.objects.values_list("search_name", flat=True))
    assert SearchGram.objects.count() == expected
    assert names(org["rep_east"], "中兴", "customers") == ["中兴通讯"]


def test_bulk_created_objects_are_indexed_by_the_bulk_path(org):
    from yingdan.search.indexing import index_instances

    customer = make_customer(org["rep_east"], name="临时")
    made = Contact.objects.bulk_create([Contact(customer=customer, name="欧阳娜娜", search_name="欧阳娜娜")])
    assert names(org["rep_east"], "娜娜", "contacts") == []  # bulk_create sends no signal
    assert index_instances(made) == 4  # grams: 欧阳 阳娜 娜娜 娜
    assert names(org["rep_east"], "娜娜", "contacts") == ["欧阳娜娜"]


def test_unchanged_name_does_not_rewrite_grams(org, data, django_assert_max_num_queries):
    contact = make_contact(data["tencent"], name="李雷")
    contact.title = "经理"
    with django_assert_max_num_queries(12):
        contact.save()
    assert grams_of(CONTACT, contact.pk) == {"李雷", "雷"}


def _plan(qs) -> str:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET enable_seqscan = off")  # tiny tables: ask whether an index CAN answer
            try:
                return qs.explain()
            finally:
                cursor.execute("SET enable_seqscan = on")
    return qs.explain()


def _assert_index_only(plan: str, table: str) -> None:
    if connection.vendor == "postgresql":
        assert "Index" in plan and "Seq Scan" not in plan, plan
    else:
        assert f"SEARCH {table}" in plan and f"SCAN {table}" not in plan, plan


def test_query_plans_use_indexes(org, data):
    provider = CustomerSearchProvider()
    gram_source = provider.name_criterion(_query("科技")).sources[0]
    _assert_index_only(_plan(gram_source), "search_searchgram")
    unigram_source = provider.name_criterion(_query("科")).sources[0]
    _assert_index_only(_plan(unigram_source), "search_searchgram")
    initials, pinyin = provider.pinyin_criteria(_query("txkj"))
    _assert_index_only(_plan(initials.sources[0]), "customers_customer")
    _assert_index_only(_plan(pinyin.sources[0]), "customers_customer")
    if connection.vendor == "sqlite":
        assert "search_initials" in _plan(initials.sources[0])
    phone = provider.field_prefix_criterion("phone", "phone", ["021-1234"])
    _assert_index_only(_plan(phone.sources[0]), "customers_customer")
    email = ContactSearchProvider().field_prefix_criterion("email", "email", ["wang.wei@"])
    _assert_index_only(_plan(email.sources[0]), "customers_contact")


def _query(text):
    from yingdan.core.text import normalize
    from yingdan.search.providers import Query

    return Query.parse(text, normalize(text))
