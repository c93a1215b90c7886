from audit.context import current_ip


class RequestContextMiddleware:
    """Remember the client IP for the audit events written while serving a request.

    SECURITY: X-Forwarded-For is trusted only when the deployment says a proxy sets it
    (AUDIT_TRUST_X_FORWARDED_FOR); otherwise a client could forge its address.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        from django.conf import settings

        self.trust_forwarded = getattr(settings, "AUDIT_TRUST_X_FORWARDED_FOR", False)

    def __call__(self, request):
        ip = request.META.get("REMOTE_ADDR")
        if self.trust_forwarded and request.META.get("HTTP_X_FORWARDED_FOR"):
            ip = request.META["HTTP_X_FORWARDED_FOR"].split(",")[0].strip()
        token = current_ip.set(ip or None)
        try:
            return self.get_response(request)
        finally:
            current_ip.reset(token)
