"""Run as a subprocess by test_backup_restore.py against a real installation (YINGDAN_DATA_DIR/DATABASE_URL):

    python tests/ops/roundtrip_data.py create   # users, departments, customers, contacts, change log, a media file
    python tests/ops/roundtrip_data.py dump     # prints everything a restore must bring back, as JSON
"""

import hashlib
import json
import os
import sys

import django


def create() -> None:
    from django.conf import settings

    from yingdan.core.choices import ChangeSource
    from yingdan.core.context import change_context
    from yingdan.core.models import Lookup
    from yingdan.customers.models import Contact, Customer
    from yingdan.org.models import Department, Role, User

    admin = User.objects.create_superuser("boss", password="Restore-me-123", name="王老板", mobile="13800000001")
    with change_context(user=admin, source=ChangeSource.WEB):
        dept = Department.objects.create(name="华东大区")
        Department.objects.filter(pk=dept.pk).update(path=f"/{dept.pk}/")
        rep = User.objects.create_user("xiaoli", password="Restore-me-456", name="李小明", mobile="13900000002", department=dept)
        rep.roles.set(Role.objects.filter(code="rep"))
        level = Lookup.objects.filter(kind="customer_level").first()
        for index, name in enumerate(["腾讯科技（深圳）有限公司", "上海浦东发展银行", "<script>alert(1)</script>有限公司"]):
            customer = Customer.objects.create(
                name=name, owner=rep, department=dept, level=level, phone=f"021-6000000{index}",
                custom_fields={"budget": 1000 * index}, remarks="备注\n第二行",
            )
            Contact.objects.create(name=f"联系人{index}", customer=customer, mobile=f"1370000000{index}", is_primary=True)
        customer.name = "改过的名字"
        customer.save()
    media = settings.MEDIA_ROOT / "attachments" / "合同 2024.bin"
    media.parent.mkdir(parents=True, exist_ok=True)
    media.write_bytes(bytes(range(256)) * 40)


def dump() -> dict:
    from django.conf import settings
    from django.contrib.auth import authenticate

    from yingdan.core.models import Lookup, ObjectChange
    from yingdan.customers.models import Contact, Customer
    from yingdan.org.models import Department, Role, User

    media_root = settings.MEDIA_ROOT
    return {
        "counts": {
            "users": User.objects.count(), "departments": Department.objects.count(), "roles": Role.objects.count(),
            "lookups": Lookup.objects.count(), "customers": Customer.objects.count(), "contacts": Contact.objects.count(),
            "changes": ObjectChange.objects.count(),
        },
        "users": list(User.objects.order_by("username").values("username", "name", "mobile", "department__name", "password")),
        "customers": list(Customer.objects.order_by("id").values(
            "id", "name", "owner__username", "department__name", "level__name", "phone", "custom_fields", "remarks",
            "search_initials", "created_at",
        )),
        "contacts": list(Contact.objects.order_by("id").values("name", "customer_id", "mobile", "is_primary")),
        "changes": list(ObjectChange.objects.order_by("id").values(
            "action", "object_repr", "object_id", "source", "user_name", "request_id", "changes", "time",
        )),
        "logins": [bool(authenticate(username="boss", password="Restore-me-123")),
                   bool(authenticate(username="xiaoli", password="Restore-me-456"))],
        "media": {
            str(p.relative_to(media_root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(media_root.rglob("*")) if p.is_file()
        } if media_root.exists() else {},
    }


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yingdan.settings.dev")
    django.setup()
    if sys.argv[1] == "create":
        create()
    else:
        print(json.dumps(dump(), ensure_ascii=False, default=str, sort_keys=True))
