"""Start the test provider: migrate its database, create its people and its client, serve.

``python -m tests.sso.provider.run`` with PROVIDER_PORT, PROVIDER_DB, PROVIDER_ISSUER,
PROVIDER_RSA_KEY and PROVIDER_FIXTURE (JSON: ``people`` and ``client``) in the environment.
"""

import json
import os

import django
from django.core.management import call_command


def main() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.sso.provider.settings"
    django.setup()
    from django.contrib.auth.models import Group, User
    from oauth2_provider.models import Application

    call_command("migrate", verbosity=0, interactive=False)
    fixture = json.loads(os.environ["PROVIDER_FIXTURE"])
    for person in fixture["people"]:
        user = User.objects.create_user(person["username"], email=person["email"], password=person["password"])
        for name in person.get("groups", []):
            user.groups.add(Group.objects.get_or_create(name=name)[0])
    client = fixture["client"]
    Application.objects.create(
        name="Corridor",
        client_id=client["client_id"],
        client_secret=client["client_secret"],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=" ".join(client["redirect_uris"]),
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
    )
    call_command(
        "runserver",
        f"127.0.0.1:{os.environ['PROVIDER_PORT']}",
        use_reloader=False,
        use_threading=True,
        skip_checks=True,
    )


if __name__ == "__main__":
    main()
