import string

from django.contrib.auth.password_validation import MinimumLengthValidator as _MinimumLengthValidator
from django.core.exceptions import ValidationError


class CharacterClassValidator:
    """At least N of: lower-case letters, upper-case letters, digits, other symbols."""

    def __init__(self, min_classes: int = 3):
        self.min_classes = min_classes

    def validate(self, password: str, user=None) -> None:
        classes = [
            any(c in string.ascii_lowercase for c in password),
            any(c in string.ascii_uppercase for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        ]
        if sum(classes) < self.min_classes:
            raise ValidationError(
                "密码至少要包含小写字母、大写字母、数字、符号中的 %(n)d 类。",
                code="password_too_simple",
                params={"n": self.min_classes},
            )

    def get_help_text(self) -> str:
        return f"密码至少要包含小写字母、大写字母、数字、符号中的 {self.min_classes} 类。"


class MinimumLengthValidator(_MinimumLengthValidator):
    """Django's length rule with a Chinese message.

    Django 5.2.19 changed the English message (``%d`` in place of ``%(min_length)d``) and its zh_Hans
    catalogue no longer matches, so the stock validator answers in English.
    """

    def get_error_message(self) -> str:
        return f"密码太短，至少需要 {self.min_length} 个字符。"

    def get_help_text(self) -> str:
        return f"密码至少需要 {self.min_length} 个字符。"
