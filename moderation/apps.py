from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ModerationConfig(AppConfig):
    name = "moderation"
    verbose_name = _("Review and reposts")

    def ready(self):
        from accounts.models import Role
        from accounts.navigation import NavItem, add_nav_item
        from accounts.scoping import Action, Domain
        from moderation.services.directives import directive_deadlines_recompute
        from workcalendar.services import register_recomputer

        register_recomputer(directive_deadlines_recompute)

        reviewers = frozenset({Role.DEPARTMENT_HEAD, Role.LEADER_IN_CHARGE,
                               Role.PRINCIPAL_LEADER, Role.CONFIDENTIALITY_REVIEWER})
        add_nav_item(NavItem("posts", _("Posts"), "moderation:post_list", Domain.BUSINESS,
                             order=30))
        add_nav_item(NavItem("review_queue", _("Review queue"), "moderation:queue",
                             Domain.BUSINESS, roles=reviewers, order=31))
        add_nav_item(NavItem("directives", _("Repost directives"), "moderation:directive_list",
                             Domain.BUSINESS, order=32))
        add_nav_item(NavItem("flags", _("Flags"), "moderation:flag_list", Domain.BUSINESS,
                             action=Action.CHANGE, roles=frozenset({Role.SUPERVISOR}), order=33))
