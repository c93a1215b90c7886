"""Writes of moderation, split by subdomain. Import from the submodules:

- dictionaries: pre-check dictionaries and their terms
- posts: drafting, editing, attachments, submission
- review: tiered review decisions and the sign-off sheet
- publication: publication records, collector reports, flags
- directives: repost directives, confirmations and the overdue sweep
"""
