from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InboxConfig(AppConfig):
    name = "inbox"
    verbose_name = _("Citizen messages")

    def ready(self):
        from accounts.models import Role
        from common.navigation import NavEntry, register
        from inbox.services.timers import message_deadlines_recompute
        from workcalendar.services import register_recomputer

        register_recomputer(message_deadlines_recompute)

        from inbox.workbench import register_cards

        register_cards()

        from common import exports

        exports.register("inbox_messages", "inbox.lists.messages_table")
        exports.register("inbox_routing", "inbox.lists.routing_table")
        exports.register("inbox_slips", "inbox.lists.slips_table")
        exports.register("duty", "inbox.lists.duty_table")

        handlers = frozenset({Role.OPERATOR, Role.LIAISON, Role.DEPARTMENT_HEAD})
        register(
            NavEntry("inbox", _("Messages"), "inbox:inbox", "messages", order=10),
            NavEntry("inbox_new", _("Enter a message"), "inbox:message_new", "messages",
                     action="change", order=15),
            NavEntry("inbox_routing", _("Routing board"), "inbox:routing", "messages",
                     roles=frozenset({Role.LIAISON, Role.SUPERVISOR, Role.DEPARTMENT_HEAD}),
                     order=20),
            NavEntry("inbox_slips", _("Issue slips"), "inbox:slips", "messages", order=30),
            NavEntry("inbox_duty", _("Duty"), "inbox:duty", "messages", roles=handlers,
                     order=40),
            NavEntry("inbox_wechat", _("WeChat settings"), "inbox:wechat_settings",
                     "messages", roles=handlers, order=45),
            # Registering a collector and seeing its token is a change in the
            # organization: the page's own check is the service's (require CHANGE).
            NavEntry("inbox_collectors", _("Collectors"), "inbox:collectors", "messages",
                     action="change", order=47),
            NavEntry("inbox_sla", _("SLA overview"), "inbox:sla_overview", "oversight",
                     roles=frozenset({Role.SUPERVISOR, Role.AUDITOR}), order=50),
        )

        from audit.labels import register_action_labels

        register_action_labels({
            "inbox.messages_receive": _("Messages received"),
            "inbox.collector_create": _("Collector registered"),
            "inbox.collector_deactivate": _("Collector deactivated"),
            "inbox.collector_reactivate": _("Collector reactivated"),
            "inbox.collector_token_rotate": _("Collector token rotated"),
            "inbox.wechat_endpoint_save": _("WeChat endpoint saved"),
            "inbox.message_classify": _("Message classified"),
            "inbox.message_accept": _("Message accepted"),
            "inbox.message_edit": _("Message text corrected"),
            "inbox.message_assign": _("Message assigned"),
            "inbox.message_transfer": _("Message transferred"),
            "inbox.message_return": _("Transfer returned"),
            "inbox.message_sign_for": _("Message signed for"),
            "inbox.message_pause": _("Waiting on the citizen"),
            "inbox.message_resume": _("Message resumed"),
            "inbox.message_extend": _("Message extended"),
            "inbox.reply_submit": _("Reply drafted"),
            "inbox.reply_approve": _("Reply approved"),
            "inbox.reply_reject": _("Reply sent back"),
            "inbox.reply_publish": _("Reply published"),
            "inbox.reply_send_queue": _("Reply queued for WeChat"),
            "inbox.reply_send": _("Reply sent through WeChat"),
            "inbox.reply_send_fail": _("WeChat send failed"),
            "inbox.message_rate": _("Message rated"),
            "inbox.message_resolve": _("Message resolved"),
            "inbox.raw_payload_read": _("Raw payload read"),
            "inbox.sla_policy_save": _("SLA policy saved"),
            "inbox.messages_import": _("Messages imported"),
            "inbox.slip_issue": _("Issue slip sent"),
            "inbox.slip_answer": _("Issue slip answered"),
            "inbox.slip_publish": _("Issue slip result published"),
            "inbox.duty_assign": _("Duty assigned"),
            "inbox.duty_log_sign": _("Duty log signed off"),
        })
