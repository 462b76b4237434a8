"""API authentication (its own module: DRF's settings import it at start-up)."""

from django.contrib.auth import get_user_model
from django.db import connection
from rest_framework import authentication
from rest_framework.authtoken.models import Token


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's, reading the token's user with a written-out statement: DRF's lookup through the
    ORM (``select_related("user").get(key=…)``) cost 0.8 ms of Python on every API request,
    this 0.3 ms (docs/benchmarks.md). A key that finds no active user is left to DRF's lookup,
    which refuses it with DRF's own message."""

    def authenticate_credentials(self, key):
        user_model = get_user_model()
        quote = connection.ops.quote_name
        found = list(
            user_model._default_manager.raw(
                f"SELECT u.* FROM {quote(user_model._meta.db_table)} u "
                f"JOIN {quote(Token._meta.db_table)} t "
                f"ON t.{quote(Token._meta.get_field('user').column)} "
                f"= u.{quote(user_model._meta.pk.column)} "
                f"WHERE t.{quote(Token._meta.pk.column)} = %s",
                [key],
            )
        )
        if not found or not found[0].is_active:
            return super().authenticate_credentials(key)
        user = found[0]
        return user, Token(key=key, user=user)
