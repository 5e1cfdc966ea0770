import getpass

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from chuangwen.accounts import services as account_services
from chuangwen.accounts.models import User
from chuangwen.core.roles import Role
from chuangwen.org import services
from chuangwen.org.models import Unit


class Command(BaseCommand):
    help = "创建系统管理员（在教体局上担任“系统管理员”角色）。没有教体局时会先创建一个。"

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument("--name", default="系统管理员")
        parser.add_argument("--password", help="不提供时交互输入；也可用环境变量 CHUANGWEN_ADMIN_PASSWORD")
        parser.add_argument("--bureau-name", default="市教育体育局", help="尚无教体局时新建的名称")

    def handle(self, *args, username, name, password, bureau_name, **options):
        import os

        password = password or os.environ.get("CHUANGWEN_ADMIN_PASSWORD")
        if not password:
            password = getpass.getpass("密码：")
            if password != getpass.getpass("再次输入密码："):
                raise CommandError("两次输入的密码不一致")
        if User.objects.filter(username__iexact=username).exists():
            raise CommandError(f"用户名“{username}”已存在")
        try:
            with transaction.atomic():
                bureau = Unit.objects.filter(kind=Unit.Kind.BUREAU).order_by("pk").first()
                if bureau is None:
                    bureau = services.unit_create(kind=Unit.Kind.BUREAU, name=bureau_name, code="BUREAU")
                user = account_services.user_create(username=username, name=name, password=password)
                user.is_staff = True
                user.save(update_fields=["is_staff"])
                services.membership_grant(user=user, unit=bureau, role=Role.ADMIN)
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc
        self.stdout.write(self.style.SUCCESS(f"已创建系统管理员 {username}（{bureau.name}）"))
