"""Production profile: the base settings with CORRIDOR_ENV=production enforced.

It declares nothing new; it only refuses to start without what production needs.
"""

import os

from django.core.exceptions import ImproperlyConfigured

os.environ.setdefault("CORRIDOR_ENV", "production")

from config.settings.base import *  # noqa: F403
from config.settings.base import ALLOWED_HOSTS, CORRIDOR_ENV, DEBUG, SECRET_KEY

if CORRIDOR_ENV != "production":
    raise ImproperlyConfigured("config.settings.production requires CORRIDOR_ENV=production (or unset).")
if DEBUG:
    raise ImproperlyConfigured("DEBUG must be off in production.")
if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be set to at least 50 random characters in production.")
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must list the site's host names in production.")
