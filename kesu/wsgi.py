import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kesu.settings")
application = get_wsgi_application()

# What is loaded by now (Django, Kesu, their modules: some 170,000 objects) lives as long as
# the process. Freezing it keeps the garbage collector's full passes, which would walk all of
# it every few hundred requests, to the objects that requests make (docs/performance.md).
gc.freeze()
