"""Deleting a follow-up, or the customer / lead it belongs to, removes its attachments' rows and, once the
transaction commits, their stored files (a rolled-back delete keeps both)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from yingdan.core.models import Attachment
from yingdan.core.tests import factories
from yingdan.customers import services as customer_services
from yingdan.followups import services
from yingdan.leads.models import Lead

from .helpers import make_followup

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep():
    team = factories.make_department("上海一组")
    return factories.make_user("rep1", ["rep"], team, name="张伟")


def with_file(rep, **parent):
    followup = make_followup(rep, **parent)
    (attachment,) = services.add_attachments(rep, followup, [SimpleUploadedFile("纪要.pdf", b"%PDF-1.7 ...")])
    path = attachment.file.path
    with open(path, "rb"):
        pass  # stored
    return followup, attachment, path


def exists(path) -> bool:
    try:
        open(path, "rb").close()
    except FileNotFoundError:
        return False
    return True


def test_deleting_the_customer_removes_followup_files(rep, django_capture_on_commit_callbacks):
    customer = factories.make_customer(rep)
    _, attachment, path = with_file(rep, customer=customer)
    with django_capture_on_commit_callbacks(execute=True):
        customer_services.delete_customer(factories.system_actor(), customer)
    assert not Attachment.objects.filter(pk=attachment.pk).exists()
    assert not exists(path)


def test_bulk_deleting_customers_removes_followup_files(rep, django_capture_on_commit_callbacks):
    customers = [factories.make_customer(rep) for _ in range(2)]
    paths = [with_file(rep, customer=c)[2] for c in customers]
    with django_capture_on_commit_callbacks(execute=True):
        assert customer_services.delete_customers(factories.system_actor(), [c.pk for c in customers]) == 2
    assert not Attachment.objects.exists()
    assert not any(exists(p) for p in paths)


def test_deleting_a_followup_removes_its_files(rep, django_capture_on_commit_callbacks):
    customer = factories.make_customer(rep)
    followup, attachment, path = with_file(rep, customer=customer)
    _, kept, kept_path = with_file(rep, customer=customer)
    with django_capture_on_commit_callbacks(execute=True):
        services.delete_followup(factories.system_actor(), followup)
    assert list(Attachment.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not exists(path) and exists(kept_path)


def test_deleting_a_lead_removes_followup_files(rep, django_capture_on_commit_callbacks):
    lead = Lead.objects.create(name="线索甲", owner=rep, department=rep.department, created_by=rep)
    _, attachment, path = with_file(rep, lead=lead)
    with django_capture_on_commit_callbacks(execute=True):
        lead.delete()
    assert not Attachment.objects.filter(pk=attachment.pk).exists()
    assert not exists(path)


def test_rolled_back_delete_keeps_the_files(rep, django_capture_on_commit_callbacks):
    customer = factories.make_customer(rep)
    _, attachment, path = with_file(rep, customer=customer)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            customer_services.delete_customer(factories.system_actor(), customer)
            raise RuntimeError
    assert callbacks == []
    assert Attachment.objects.filter(pk=attachment.pk).exists() and exists(path)
