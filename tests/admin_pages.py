"""The admin as the tests address it: the URL of a model's admin page."""

from django.urls import reverse


def admin_url(model, action: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{action}", args=args)
