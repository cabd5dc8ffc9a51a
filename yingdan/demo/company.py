"""The demo company 华信智能科技有限公司 (`yingdan seed --demo`, run by `make demo`).

Headquarters → four regions → eight sales teams, 40 users over every built-in role, ~3,000 customers with
valid 统一社会信用代码 and phones, ~2 contacts each. Generated from a fixed random seed (the same data on every
machine) with bulk inserts: the change log is not written for seed data. Idempotent: nothing is created
when the company already exists.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import transaction
from pypinyin import lazy_pinyin

from yingdan.core.choices import ChangeSource
from yingdan.core.context import change_context
from yingdan.core.models import Lookup, Tag
from yingdan.core.text import company_key
from yingdan.core.validators import credit_code_check_char
from yingdan.customers.models import Contact, Customer
from yingdan.org.models import Department, Role, User
from yingdan.search.indexing import index_rows
from yingdan.search.services import providers as search_providers

COMPANY_NAME = "华信智能科技有限公司"
DEMO_PASSWORD = "yingdan123"
DEFAULT_CUSTOMERS = 3000

# Logins shown by `make demo`: (username, role name, what to try with it)
DEMO_LOGINS = [
    ("admin", "系统管理员", "everything, incl. users, roles, custom fields"),
    ("director", "销售总监", "all customers of the company"),
    ("manager", "销售经理", "华东大区 and its teams"),
    ("rep", "销售代表", "own customers (上海组)"),
    ("finance", "财务", "reads all customers, owner read-only"),
]


@dataclass(frozen=True)
class City:
    province: str
    city: str
    short: str
    districts: tuple[str, ...]
    area_code: str
    division: str  # administrative division code used in the credit code


CITIES = {
    "上海": City("上海市", "上海市", "上海", ("浦东新区", "徐汇区", "闵行区", "静安区", "嘉定区"), "021", "310115"),
    "杭州": City("浙江省", "杭州市", "杭州", ("西湖区", "滨江区", "余杭区", "拱墅区"), "0571", "330106"),
    "宁波": City("浙江省", "宁波市", "宁波", ("鄞州区", "海曙区", "北仑区"), "0574", "330212"),
    "南京": City("江苏省", "南京市", "南京", ("玄武区", "鼓楼区", "江宁区", "建邺区"), "025", "320102"),
    "苏州": City("江苏省", "苏州市", "苏州", ("姑苏区", "吴中区", "相城区", "昆山市"), "0512", "320506"),
    "广州": City("广东省", "广州市", "广州", ("天河区", "海珠区", "番禺区", "黄埔区"), "020", "440106"),
    "佛山": City("广东省", "佛山市", "佛山", ("南海区", "顺德区", "禅城区"), "0757", "440605"),
    "深圳": City("广东省", "深圳市", "深圳", ("南山区", "福田区", "龙岗区", "宝安区"), "0755", "440305"),
    "东莞": City("广东省", "东莞市", "东莞", ("南城街道", "长安镇", "松山湖"), "0769", "441900"),
    "北京": City("北京市", "北京市", "北京", ("海淀区", "朝阳区", "东城区", "丰台区", "大兴区"), "010", "110108"),
    "天津": City("天津市", "天津市", "天津", ("滨海新区", "和平区", "南开区"), "022", "120116"),
    "济南": City("山东省", "济南市", "济南", ("历下区", "槐荫区", "历城区"), "0531", "370102"),
    "青岛": City("山东省", "青岛市", "青岛", ("市南区", "崂山区", "黄岛区"), "0532", "370202"),
    "成都": City("四川省", "成都市", "成都", ("武侯区", "锦江区", "青羊区", "成华区"), "028", "510107"),
    "重庆": City("重庆市", "重庆市", "重庆", ("渝北区", "江北区", "九龙坡区"), "023", "500112"),
    "昆明": City("云南省", "昆明市", "昆明", ("五华区", "盘龙区", "官渡区"), "0871", "530102"),
}

# region → [(team, cities it covers)]
REGIONS = {
    "华东大区": [("上海组", ["上海"]), ("杭州组", ["杭州", "宁波"]), ("南京组", ["南京", "苏州"])],
    "华南大区": [("广州组", ["广州", "佛山"]), ("深圳组", ["深圳", "东莞"])],
    "华北大区": [("北京组", ["北京", "天津"]), ("济南组", ["济南", "青岛"])],
    "西南大区": [("成都组", ["成都", "重庆", "昆明"])],
}

# (username, full name, role code, department, job title, manages the department)
USERS = [
    ("admin", "陈志强", "admin", COMPANY_NAME, "IT 管理员", False),
    ("director", "刘海涛", "director", COMPANY_NAME, "销售总监", True),
    ("finance", "周晓梅", "finance", "财务部", "财务经理", True),
    ("finance02", "吴静", "finance", "财务部", "会计", False),
    ("manager", "张伟", "manager", "华东大区", "华东大区经理", True),
    ("manager02", "李娜", "manager", "华南大区", "华南大区经理", True),
    ("manager03", "王磊", "manager", "华北大区", "华北大区经理", True),
    ("manager04", "赵敏", "manager", "西南大区", "西南大区经理", True),
    ("manager05", "孙浩", "manager", "上海组", "销售主管", True),
    ("manager06", "钱丽", "manager", "杭州组", "销售主管", True),
    ("manager07", "郑强", "manager", "南京组", "销售主管", True),
    ("manager08", "冯雪", "manager", "广州组", "销售主管", True),
    ("manager09", "何军", "manager", "深圳组", "销售主管", True),
    ("manager10", "许婷", "manager", "北京组", "销售主管", True),
    ("manager11", "邓鹏", "manager", "济南组", "销售主管", True),
    ("manager12", "曹琳", "manager", "成都组", "销售主管", True),
    ("rep", "林晓峰", "rep", "上海组", "销售代表", False),
    ("rep01", "黄丽华", "rep", "上海组", "销售代表", False),
    ("rep02", "徐明", "rep", "上海组", "高级销售代表", False),
    ("rep03", "朱佳怡", "rep", "上海组", "销售代表", False),
    ("rep04", "马超", "rep", "杭州组", "销售代表", False),
    ("rep05", "胡蓉", "rep", "杭州组", "销售代表", False),
    ("rep06", "郭俊", "rep", "杭州组", "高级销售代表", False),
    ("rep07", "高翔", "rep", "南京组", "销售代表", False),
    ("rep08", "罗芳", "rep", "南京组", "销售代表", False),
    ("rep09", "梁宇", "rep", "南京组", "销售代表", False),
    ("rep10", "宋佳", "rep", "广州组", "销售代表", False),
    ("rep11", "唐杰", "rep", "广州组", "高级销售代表", False),
    ("rep12", "韩冰", "rep", "广州组", "销售代表", False),
    ("rep13", "冯涛", "rep", "深圳组", "销售代表", False),
    ("rep14", "董洁", "rep", "深圳组", "销售代表", False),
    ("rep15", "萧磊", "rep", "深圳组", "销售代表", False),
    ("rep16", "程颖", "rep", "北京组", "销售代表", False),
    ("rep17", "袁博", "rep", "北京组", "高级销售代表", False),
    ("rep18", "于倩", "rep", "北京组", "销售代表", False),
    ("rep19", "蒋涛", "rep", "济南组", "销售代表", False),
    ("rep20", "蔡敏", "rep", "济南组", "销售代表", False),
    ("rep21", "余洋", "rep", "成都组", "销售代表", False),
    ("rep22", "杜鹃", "rep", "成都组", "销售代表", False),
    ("rep23", "叶帆", "rep", "成都组", "高级销售代表", False),
]

BRAND_CHARS = "恒远华鑫瑞博通达宏图中天正源海信德盛泰安新辉晨星明嘉联创卓越宇航金诚协和东方汇智润峰锐启凯腾飞佳美力荣兴隆昌永丰"
INDUSTRY_TERMS = {
    "制造业": ["精密机械", "电子科技", "新材料", "汽车零部件", "智能装备", "电气"],
    "信息技术": ["信息技术", "软件", "网络科技", "数据科技", "云计算"],
    "批发零售": ["商贸", "贸易", "供应链管理", "电子商务"],
    "金融": ["投资管理", "融资租赁", "资产管理"],
    "教育": ["教育科技", "文化传播", "职业培训"],
    "医疗健康": ["医疗器械", "生物科技", "健康管理", "医药"],
    "建筑地产": ["建设工程", "置业", "建筑设计", "装饰工程"],
    "物流运输": ["物流", "国际货运代理", "冷链物流"],
    "能源化工": ["新能源", "化工", "环保科技", "光伏科技"],
    "其他": ["实业", "企业管理咨询", "餐饮管理"],
}
INDUSTRY_WEIGHTS = {"制造业": 24, "信息技术": 20, "批发零售": 12, "金融": 5, "教育": 5, "医疗健康": 8, "建筑地产": 8,
                    "物流运输": 6, "能源化工": 6, "政府机构": 3, "其他": 3}
PUBLIC_BODIES = ["大数据中心", "政务服务中心", "人民医院", "第一中学", "职业技术学院", "公共资源交易中心"]
SUFFIXES = [("有限公司", 80), ("股份有限公司", 12), ("集团有限公司", 8)]
ROADS = ["科技路", "人民路", "建设大道", "创新大道", "长江路", "中山路", "解放路", "世纪大道", "高新大道", "学府路", "金融街", "滨江路"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建文辉玲鹏宇浩凯晨欣怡佳雪琳思婷颖博翔志新海波斌亮飞龙云峰俊"
CONTACT_TITLES = [("总经理", 8), ("副总经理", 6), ("采购经理", 14), ("采购专员", 10), ("技术总监", 8), ("IT 主管", 8),
                  ("财务经理", 8), ("行政主管", 6), ("项目经理", 10), ("运营总监", 5), ("董事长", 3), ("工程师", 8)]
MOBILE_PREFIXES = ["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155", "156",
                   "157", "158", "159", "166", "173", "176", "177", "180", "181", "182", "183", "185", "186", "187",
                   "188", "189", "191", "198", "199"]
TAGS = ["重点项目", "老客户", "上市公司", "续约中", "展会线索", "高校合作"]
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def demo_exists() -> bool:
    return Department.objects.filter(name=COMPANY_NAME, parent__isnull=True).exists()


def org_code(rng: random.Random) -> str:
    """A 9-character organisation code (GB 11714): 8 digits and its check character."""
    body = "".join(rng.choice("0123456789") for _ in range(8))
    check = 11 - sum(int(c) * w for c, w in zip(body, ORG_CODE_WEIGHTS, strict=True)) % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def credit_code(rng: random.Random, division: str, public_body: bool = False) -> str:
    first17 = ("12" if public_body else "91") + division + org_code(rng)
    return first17 + credit_code_check_char(first17)


def mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def person_name(rng: random.Random) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
    return rng.choice(SURNAMES) + given


def weighted(rng: random.Random, pairs):
    items, weights = zip(*pairs, strict=True)
    return rng.choices(items, weights=weights)[0]


class DemoCompany:
    """Builds the company; `create()` runs in one transaction."""

    def __init__(self, customers: int = DEFAULT_CUSTOMERS, seed: int = 20240601, stdout=None):
        self.customer_count = customers
        self.rng = random.Random(seed)
        self.stdout = stdout
        self.used_codes: set[str] = set(Customer.objects.exclude(credit_code=None).values_list("credit_code", flat=True))
        self.used_names: set[str] = set()

    def log(self, message: str) -> None:
        if self.stdout is not None:
            self.stdout.write(message)

    def create(self) -> dict:
        with change_context(source=ChangeSource.SYSTEM), transaction.atomic():
            departments = self.create_departments()
            users = self.create_users(departments)
            counts = self.create_customers(users)
        return {"departments": len(departments), "users": len(users), **counts}

    # -- organisation ------------------------------------------------------------------------------
    def _department(self, name: str, parent: Department | None, order: int) -> Department:
        dept = Department.objects.create(name=name, parent=parent, order=order)
        dept.path = f"{parent.path if parent else '/'}{dept.pk}/"
        dept.depth = parent.depth + 1 if parent else 0
        Department.objects.filter(pk=dept.pk).update(path=dept.path, depth=dept.depth)
        return dept

    def create_departments(self) -> dict[str, Department]:
        root = self._department(COMPANY_NAME, None, 10)
        departments = {COMPANY_NAME: root, "财务部": self._department("财务部", root, 90)}
        for r_order, (region, teams) in enumerate(REGIONS.items(), start=1):
            region_dept = departments[region] = self._department(region, root, r_order * 10)
            for t_order, (team, _cities) in enumerate(teams, start=1):
                departments[team] = self._department(team, region_dept, t_order * 10)
        self.log(f"  {len(departments)} departments")
        return departments

    def create_users(self, departments: dict[str, Department]) -> dict[str, User]:
        taken = sorted(User.objects.filter(username__in=[u[0] for u in USERS]).values_list("username", flat=True))
        if taken:
            raise ValueError(f"Users already exist: {', '.join(taken)}. Seed the demo into an empty database.")
        roles = {r.code: r for r in Role.objects.filter(is_builtin=True)}
        password = make_password(DEMO_PASSWORD)  # one hash for all: PBKDF2 40 times would take seconds
        mobiles: set[str] = set(User.objects.exclude(mobile=None).values_list("mobile", flat=True))
        users = []
        for username, name, _role, dept, title, _manages in USERS:
            number = mobile(self.rng)
            while number in mobiles:
                number = mobile(self.rng)
            mobiles.add(number)
            users.append(User(
                username=username, name=name, password=password, mobile=number, department=departments[dept],
                title=title, email=f"{username}@huaxin-demo.cn", language="zh-hans",
                is_superuser=username == "admin", is_staff=username == "admin",
            ))
        User.objects.bulk_create(users)
        by_name = {u.username: u for u in User.objects.filter(username__in=[u[0] for u in USERS])}
        through = User.roles.through
        through.objects.bulk_create(
            [through(user_id=by_name[u[0]].pk, role_id=roles[u[2]].pk) for u in USERS if u[2] in roles]
        )
        for username, _name, _role, dept, _title, manages in USERS:
            if manages:
                Department.objects.filter(pk=departments[dept].pk).update(manager=by_name[username])
        self.log(f"  {len(by_name)} users (password {DEMO_PASSWORD})")
        return by_name

    # -- customers and contacts --------------------------------------------------------------------
    def _lookups(self, kind: str) -> list[Lookup]:
        return list(Lookup.objects.filter(kind=kind, is_active=True).order_by("order", "id"))

    def _company_name(self, city: City, industry: str) -> tuple[str, str, str]:
        """(name, short name, brand) unique within this run."""
        rng = self.rng
        for _ in range(100):
            brand = "".join(rng.sample(BRAND_CHARS, 2))
            if industry == "政府机构":
                district = rng.choice(city.districts)
                name = f"{city.city}{district}{rng.choice(PUBLIC_BODIES)}"
                short = name.removeprefix(city.city)
            else:
                term = rng.choice(INDUSTRY_TERMS[industry])
                name = f"{city.short}{brand}{term}{weighted(rng, SUFFIXES)}"
                short = f"{brand}{term[:2]}"
            if name not in self.used_names:
                self.used_names.add(name)
                return name, short, brand
        raise RuntimeError("could not find a free company name")

    def _credit_code(self, city: City, public_body: bool) -> str:
        code = credit_code(self.rng, city.division, public_body)
        while code in self.used_codes:
            code = credit_code(self.rng, city.division, public_body)
        self.used_codes.add(code)
        return code

    def create_customers(self, users: dict[str, User]) -> dict[str, int]:
        rng = self.rng
        lookups = {k: self._lookups(k) for k in ("customer_level", "customer_status", "industry", "customer_source")}
        level_weights = [15, 50, 35]
        status_weights = [40, 25, 25, 10]
        industries = {lk.name: lk for lk in lookups["industry"]}
        team_cities = {team: [CITIES[c] for c in cities] for teams in REGIONS.values() for team, cities in teams}
        # Reps own most customers; team leads own some themselves.
        owners = [u for u in users.values() if u.department.name in team_cities]
        owner_weights = [1 if u.username.startswith("manager") else 6 for u in owners]
        teammates: dict[int, list[User]] = {}
        for u in owners:
            teammates.setdefault(u.department_id, []).append(u)

        customers = []
        meta = []  # per customer: (brand, city, domain)
        for _ in range(self.customer_count):
            owner = rng.choices(owners, weights=owner_weights)[0]
            city = rng.choice(team_cities[owner.department.name])
            industry_name = weighted(rng, INDUSTRY_WEIGHTS.items())
            public_body = industry_name == "政府机构"
            name, short, brand = self._company_name(city, industry_name)
            domain = "".join(lazy_pinyin(brand)) + rng.choice(["tech", "group", "", "cn"])
            district = rng.choice(city.districts)
            customer = Customer(
                name=name, short_name=short, credit_code=self._credit_code(city, public_body),
                industry=industries.get(industry_name),
                source=rng.choice(lookups["customer_source"]) if lookups["customer_source"] else None,
                level=_pick(rng, lookups["customer_level"], level_weights),
                status=_pick(rng, lookups["customer_status"], status_weights),
                province=city.province, city=city.city, district=district,
                address=f"{district}{rng.choice(ROADS)}{rng.randint(1, 999)}号",
                website=f"https://www.{domain}.com.cn" if not public_body and rng.random() < 0.6 else "",
                phone=f"{city.area_code}-{rng.choice('568')}{rng.randrange(10**7):07d}",
                owner=owner, department_id=owner.department_id, created_by=owner,
                remarks=rng.choice(["", "", "", "年度框架采购，关注售后响应速度。", "预算审批中，下季度复访。", "老客户转介绍。"]),
            )
            customer.refresh_search_keys()
            customer.dedupe_name = company_key(name)[:255]  # (bulk_create skips save(), which sets it)
            customers.append(customer)
            meta.append((domain, owner))
        Customer.objects.bulk_create(customers, batch_size=500)
        if customers[0].pk is None:  # backends that do not return ids
            customers = list(Customer.objects.filter(name__in=[c.name for c in customers]).order_by("id"))

        contacts = []
        for customer, (domain, _owner) in zip(customers, meta, strict=True):
            for index in range(rng.choices([1, 2, 3], weights=[30, 45, 25])[0]):
                person = person_name(rng)
                email = f"{''.join(lazy_pinyin(person))}@{domain}.com.cn" if rng.random() < 0.7 else ""
                contact = Contact(
                    name=person, customer=customer, title=weighted(rng, CONTACT_TITLES), mobile=mobile(rng),
                    phone=f"{customer.phone[:-4]}{rng.randrange(10**4):04d}" if rng.random() < 0.3 else "",  # direct line
                    email=email, wechat=f"wx_{''.join(lazy_pinyin(person))}{rng.randint(10, 99)}" if rng.random() < 0.4 else "",
                    is_primary=index == 0, created_by=customer.owner,
                )
                contact.refresh_search_keys()
                contacts.append(contact)
        Contact.objects.bulk_create(contacts, batch_size=1000)

        tags = [Tag(name=name) for name in TAGS if not Tag.objects.filter(name=name).exists()]
        Tag.objects.bulk_create(tags)
        tag_ids = list(Tag.objects.filter(name__in=TAGS).values_list("pk", flat=True))
        tag_links, collaborator_links = [], []
        for customer, (_domain, owner) in zip(customers, meta, strict=True):
            if rng.random() < 0.25:
                for tag_id in rng.sample(tag_ids, rng.randint(1, 2)):
                    tag_links.append(Customer.tags.through(customer_id=customer.pk, tag_id=tag_id))
            mates = [u for u in teammates[owner.department_id] if u.pk != owner.pk]
            if mates and rng.random() < 0.1:
                collaborator_links.append(Customer.collaborators.through(customer_id=customer.pk, user_id=rng.choice(mates).pk))
        Customer.tags.through.objects.bulk_create(tag_links, batch_size=1000)
        Customer.collaborators.through.objects.bulk_create(collaborator_links, batch_size=1000)
        # bulk_create sends no signals: index the names for global search (name fragments) here.
        for provider in search_providers():
            objects = {Customer: customers, Contact: contacts}.get(provider.model, [])
            index_rows(provider.kind, [(obj.pk, obj.search_name) for obj in objects])
        self.log(f"  {len(customers)} customers, {len(contacts)} contacts")
        return {"customers": len(customers), "contacts": len(contacts)}


def _pick(rng: random.Random, entries: list, weights: list[int]):
    if not entries:
        return None
    return rng.choices(entries, weights=(weights + [5] * len(entries))[: len(entries)])[0]


def seed_demo(customers: int = DEFAULT_CUSTOMERS, stdout=None) -> dict | None:
    """Create the demo company unless it exists, then its sales activity (pools, leads, follow-ups,
    opportunities: each part once); returns the counts created (None when there was nothing to do)."""
    from .activity import DemoActivity
    from .volumes import run_default_loaders

    run_default_loaders()  # the lists and pipelines other apps define (follow-up types, lead statuses, …)
    counts = {}
    if not demo_exists():
        counts = DemoCompany(customers=customers, stdout=stdout).create()
    root = Department.objects.get(name=COMPANY_NAME, parent__isnull=True)
    with change_context(source=ChangeSource.SYSTEM):
        counts.update(DemoActivity(root, stdout=stdout).create())
    return counts or None
