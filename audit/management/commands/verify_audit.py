from django.core.management.base import BaseCommand, CommandError

from audit.services import verify_chain


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain; name the first broken link."

    def handle(self, *args, **options):
        report = verify_chain()
        if report.intact:
            self.stdout.write(
                self.style.SUCCESS(f"Audit chain intact: {report.checked} events verified.")
            )
            return
        where = f"event #{report.broken_id}" if report.broken_id else "the chain's end"
        raise CommandError(
            f"Audit chain broken at {where}: {report.reason} "
            f"({report.checked} events before it verified)."
        )
