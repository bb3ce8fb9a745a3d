"""Settings for mypy's Django plugin, which imports the settings module to learn the models.

``base`` starts the embedded PostgreSQL when ``DATABASE_URL`` is unset; mypy never
connects, so a placeholder URL keeps a type check from starting a database.
"""

import os

os.environ.setdefault("DATABASE_URL", "postgresql://typecheck@127.0.0.1:1/typecheck")

from config.settings.base import *  # noqa: F403
