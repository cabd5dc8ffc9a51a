from django.test import TestCase

from . import factories


class LanguageSwitchTests(TestCase):
    def test_switch_is_remembered_on_the_user(self):
        user = factories.make_user("lang", [], None)
        self.client.force_login(user)
        response = self.client.post("/i18n/setlang/", {"language": "en", "next": "/"})
        self.assertEqual(response.status_code, 302)
        user.refresh_from_db()
        self.assertEqual(user.language, "en")
        self.client.post("/i18n/setlang/", {"language": "xx", "next": "/"})
        user.refresh_from_db()
        self.assertEqual(user.language, "en")
