"""Weekly social posts: planning, text per network, and once-only publishing."""
