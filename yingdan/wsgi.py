import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yingdan.settings.production")
application = get_wsgi_application()

# Load what the first requests would load lazily and freeze the heap (see yingdan/core/warmup.py).
from yingdan.core.warmup import prepare_process  # noqa: E402

prepare_process()
