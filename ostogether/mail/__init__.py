"""Mail: building messages, and handing them to a transport (outbox or SMTP)."""
