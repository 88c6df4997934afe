"""Mail: building messages (MIME, DKIM), handing them to a transport (outbox or SMTP), the
sender threads, the transactional mails, and the sending domain's SPF, DKIM and DMARC.

An issue's delivery ledger is ``newsletter.delivery``; bounces are ``readers.bounces``.
May import: core, edges.
"""
