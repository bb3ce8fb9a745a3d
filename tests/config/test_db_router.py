"""The read-replica router: only reads inside read_from_replica go to the replica, and only if one exists."""

from __future__ import annotations

from django.test import override_settings

from config.db_router import ReplicaRouter, read_from_replica
from opportunities.models import Listing

ROUTER = ReplicaRouter()
WITH_REPLICA = {"default": {"ENGINE": "django.db.backends.postgresql"}, "replica": {}}


def test_without_a_replica_every_read_stays_on_the_primary():
    with read_from_replica():
        assert ROUTER.db_for_read(Listing) is None


def test_a_read_inside_the_block_goes_to_the_replica_and_a_write_never_does():
    with override_settings(DATABASES=WITH_REPLICA):
        assert ROUTER.db_for_read(Listing) is None
        with read_from_replica():
            assert ROUTER.db_for_read(Listing) == "replica"
            assert ROUTER.db_for_write(Listing) == "default"
        assert ROUTER.db_for_read(Listing) is None


def test_only_the_primary_is_migrated():
    assert ROUTER.allow_migrate("default", "opportunities") is True
    assert ROUTER.allow_migrate("replica", "opportunities") is False
