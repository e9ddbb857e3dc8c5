from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        # Registers the OpenAPI descriptions of the authentication classes with drf-spectacular.
        from accounts import schema  # noqa: F401
