"""API routes of moderation (mounted under /api/v1/)."""

from rest_framework.routers import SimpleRouter

from moderation import api

router = SimpleRouter()
router.register("posts", api.PostViewSet, basename="post")
router.register("review-deputies", api.ReviewDeputyViewSet, basename="review-deputy")
router.register("dictionaries", api.DictionaryViewSet, basename="dictionary")
router.register("published-posts", api.PublishedPostViewSet, basename="published-post")
router.register("flags", api.FlagViewSet, basename="flag")
router.register("repost-directives", api.RepostDirectiveViewSet, basename="repost-directive")
router.register("directive-targets", api.DirectiveTargetViewSet, basename="directive-target")
router.register("repost-policies", api.RepostPolicyViewSet, basename="repost-policy")

urlpatterns = router.urls
