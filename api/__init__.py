"""Entry points: the Lambda handler, the local ASGI app, authentication and request limits."""
