"""manage.py load_demo_data [--scale N]: synthetic demo data (API.md "Command line")."""

from django.core.management.base import BaseCommand, CommandError

from seeds.demo.load import demo_data_load
from seeds.demo.users import DEMO_PASSWORD, DEMO_USERS
from support_network.choices import Role
from support_network.errors import DomainError
from support_network.models import Organisation

# Japanese names of the counts, in the order they are printed.
COUNT_LABELS = {
    "companies": "企業等",
    "consents": "第三者提供の同意",
    "cases": "案件",
    "consultations": "相談記録",
    "consultation_topics": "相談分野",
    "consultation_ip_types": "知財の種類",
    "joint_attendances": "相互同席の相談",
    "follow_ups": "フォローアップ",
    "referrals": "紹介",
    "provision_records": "第三者提供記録",
    "outcomes": "成果",
    "users": "ユーザー",
}


class Command(BaseCommand):
    help = (
        "デモ用の架空データ（企業等・案件・相談記録・紹介・フォローアップ・成果）と"
        "デモ用ログインを登録します。既にデモデータがあれば何もしません。"
        "先に seed_network を実行してください。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            type=int,
            default=1,
            help="データ量の倍率（1 で企業等 約200件・相談記録 約1,000件）",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=20261121,
            help="乱数の種（同じ種なら同じデータ）",
        )

    def handle(self, *args, **options):
        if options["scale"] < 1:
            raise CommandError("--scale は 1 以上で指定してください。")
        try:
            counts = demo_data_load(scale=options["scale"], seed=options["seed"])
        except DomainError as exc:
            raise CommandError(exc.detail) from exc
        if not any(counts.values()):
            self.stdout.write("デモデータは登録済みです（追加していません）。")
        else:
            self.stdout.write(self.style.SUCCESS("デモデータを登録しました。"))
            for kind, label in COUNT_LABELS.items():
                self.stdout.write(f"  {label}: {counts.get(kind, 0):,} 件")
        self._print_logins()

    def _print_logins(self) -> None:
        names = dict(
            Organisation.objects.filter(
                code__in=[demo.organisation_code for demo in DEMO_USERS]
            ).values_list("code", "short_name")
        )
        roles = dict(Role.choices)
        self.stdout.write("")
        self.stdout.write(f"デモ用ログイン（パスワードは共通: {DEMO_PASSWORD}）")
        width = max(len(demo.username) for demo in DEMO_USERS)
        for demo in DEMO_USERS:
            role = str(roles[demo.role])
            if demo.is_superuser:
                role += "・スーパーユーザー"
            organisation = names.get(demo.organisation_code, demo.organisation_code)
            self.stdout.write(
                f"  {demo.username:<{width}}  {organisation}"
                f"（{demo.organisation_code}）  {role}"
            )
