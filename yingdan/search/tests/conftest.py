import pytest

from yingdan.core.tests.factories import make_contact, make_customer, make_department, make_user


@pytest.fixture
def org(db):
    """Two teams; a director sees everything, each rep only their own customers."""
    east = make_department("华东组")
    south = make_department("华南组")
    return {
        "east": east,
        "south": south,
        "director": make_user("director1", ["director"], east, name="刘总"),
        "rep_east": make_user("rep_east", ["rep"], east, name="林晓峰"),
        "rep_south": make_user("rep_south", ["rep"], south, name="宋佳"),
    }


@pytest.fixture
def data(org):
    rep = org["rep_east"]
    tencent = make_customer(rep, name="腾讯科技", phone="021-12345678")
    huawei = make_customer(rep, name="华为科技有限公司")
    alibaba = make_customer(rep, name="阿里巴巴网络")
    wang = make_contact(tencent, name="王伟", mobile="13800138000", email="wang.wei@tencent.example.com")
    wangming = make_contact(huawei, name="王伟明")
    xiaowei = make_contact(alibaba, name="王小伟")
    secret = make_customer(org["rep_south"], name="深圳腾讯秘密科技", phone="0755-88886666")
    secret_contact = make_contact(secret, name="王伟杰", mobile="13900139000", email="wang.wei@secret.example.com")
    return {
        "tencent": tencent, "huawei": huawei, "alibaba": alibaba, "wang": wang, "wangming": wangming,
        "xiaowei": xiaowei, "secret": secret, "secret_contact": secret_contact,
    }
