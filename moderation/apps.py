from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ModerationConfig(AppConfig):
    name = "moderation"
    verbose_name = _("Review and reposts")

    def ready(self):
        from accounts.models import Role
        from common.navigation import NavEntry, register
        from moderation.services.directives import directive_deadlines_recompute
        from workcalendar.services import register_deadline_kind

        register_deadline_kind("moderation.directive_target",
                               recompute=directive_deadlines_recompute,
                               label=_("Repost directive deadlines"))

        reviewers = frozenset({Role.DEPARTMENT_HEAD, Role.LEADER_IN_CHARGE,
                               Role.PRINCIPAL_LEADER, Role.CONFIDENTIALITY_REVIEWER})
        register(
            NavEntry("posts", _("Posts"), "moderation:post_list", "content", order=10),
            NavEntry("post_new", _("New post"), "moderation:post_create", "content",
                     action="change", order=5),
            NavEntry("review_queue", _("Posts to review"), "moderation:queue", "content",
                     roles=reviewers, order=20),
            NavEntry("deputies", _("Deputies"), "moderation:deputy_list", "content",
                     roles=reviewers, order=25),
            NavEntry("flags", _("Flags"), "moderation:flag_list", "content",
                     action="change", roles=frozenset({Role.SUPERVISOR}), order=30),
            NavEntry("directives", _("Repost directives"), "moderation:directive_list",
                     "reposts", order=10),
            NavEntry("directive_new", _("Issue a directive"), "moderation:directive_create",
                     "reposts", action="change", roles=frozenset({Role.SUPERVISOR}),
                     order=5),
        )

        from moderation.workbench import register_cards

        register_cards()

        from common import exports

        exports.register("posts", "moderation.api.posts_table")
        exports.register("repost_targets", "moderation.api.repost_targets_table")
        exports.register("flags", "moderation.views.flags_table")
        exports.register("directives", "moderation.views.directives_table")
        exports.register("review_queue", "moderation.views.review_queue_table")
        exports.register("deputies", "moderation.views.deputies_table")

        from audit.labels import register_action_labels

        register_action_labels({
            "moderation.post_create": _("Post created"),
            "moderation.deputy_appointed": _("Deputy appointed"),
            "moderation.deputy_ended": _("Deputy appointment ended"),
            "moderation.post_update": _("Post edited"),
            "moderation.attachment_add": _("Attachment added"),
            "moderation.attachment_download": _("Attachment downloaded"),
            "moderation.post_submit": _("Post submitted for review"),
            "moderation.post_link_event": _("Post linked to a public-opinion event"),
            "moderation.review_restart": _("Review restarted"),
            "moderation.post_approve": _("Review step approved"),
            "moderation.post_reject": _("Post rejected"),
            "moderation.post_request_changes": _("Changes requested"),
            "moderation.importance_raise": _("Importance raised by a reviewer"),
            "moderation.approval_expire": _("Approval expired"),
            "moderation.post_publish": _("Post published"),
            "moderation.published_post_report": _("Published post reported"),
            "moderation.flag_raise": _("Flag raised"),
            "moderation.flag_resolve": _("Flag resolved"),
            "moderation.dictionary_create": _("Sensitive-word dictionary created"),
            "moderation.term_add": _("Sensitive word added"),
            "moderation.term_remove": _("Sensitive word removed"),
            "moderation.terms_import": _("Sensitive words imported"),
            "moderation.repost_policy_create": _("Repost policy created"),
            "moderation.repost_policy_update": _("Repost policy updated"),
            "moderation.directive_issue": _("Repost directive issued"),
            "moderation.repost_confirm": _("Repost confirmed"),
        })
