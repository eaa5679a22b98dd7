"""`make run`'s API for tests: dev mode with the demo data, on a tenant of its own in the session's table."""
from __future__ import annotations

from api.demo import seed_demo
from api.dev_idp import DevIdentityProvider
from api.runtime import Services, build_services
from tests.conftest import make_settings
from tests.support import new_tenant


def demo_services(dynamodb_endpoint: str, table_name: str, idp: DevIdentityProvider) -> tuple[str, Services]:
    """A fresh tenant trusting `idp`, seeded as `make run` seeds at start."""
    tenant = new_tenant()
    settings = make_settings(dynamodb_endpoint, table_name, (idp.issuer_settings(tenant),), env="dev",
                             default_tenant=tenant, webhook_secrets={tenant: "dev-webhook-secret"})
    built = build_services(settings)
    seed_demo(tenant, built.programs)
    return tenant, built
