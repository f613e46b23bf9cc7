"""What happens to each data category, per tenant and route, and where data may go.

Precedence for an action, most specific first: the tenant's `actions`, the route's `actions`,
`[policy.actions]`, then the tenant's, the route's and the global `default_action`.

Regions: a request may go to the tenant's `allowed_regions` (else `[policy] allowed_regions`);
each detected category narrows that set with `[policy.regions] <category> = [...]`, and the key
`"*"` narrows it for any request in which something was detected.
"""

from __future__ import annotations

from collections.abc import Iterable

from egressguard.gateway.actions import Action
from egressguard.gateway.settings import PolicySettings, ScopePolicy

_EMPTY = ScopePolicy()


class Policy:
    """Read-only view of `[policy]`; safe to share between requests (lookups are memoised)."""

    def __init__(self, settings: PolicySettings) -> None:
        self._s = settings
        self._cache: dict[tuple[str, str, str], Action] = {}

    @property
    def settings(self) -> PolicySettings:
        return self._s

    def action(self, tenant: str, route: str, category: str) -> Action:
        key = (tenant, route, category)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = Action(self._resolve(tenant, route, category))
        return found

    def _resolve(self, tenant: str, route: str, category: str) -> str:
        t = self._s.tenants.get(tenant, _EMPTY)
        r = self._s.routes.get(route, _EMPTY)
        for table in (t.actions, r.actions, self._s.actions):
            if category in table:
                return table[category]
        return t.default_action or r.default_action or self._s.default_action

    def allowed_regions(self, tenant: str, categories: Iterable[str]) -> frozenset[str]:
        t = self._s.tenants.get(tenant, _EMPTY)
        regions = t.allowed_regions if t.allowed_regions is not None else self._s.allowed_regions
        cats = list(categories)
        narrowing = self._s.category_regions
        if cats and "*" in narrowing:
            regions &= narrowing["*"]
        for cat in cats:
            if cat in narrowing:
                regions &= narrowing[cat]
        return regions

    def route_allowed(self, tenant: str, route: str) -> bool:
        routes = self._s.tenants.get(tenant, _EMPTY).routes
        return routes is None or route in routes

    def model_allowed(self, tenant: str, model: str | None) -> bool:
        models = self._s.tenants.get(tenant, _EMPTY).models
        return models is None or model is None or model in models

    def upstream_for(self, tenant: str, route: str) -> str | None:
        """The upstream id a tenant/route override names, else None (the router decides)."""
        return (
            self._s.tenants.get(tenant, _EMPTY).upstream
            or self._s.routes.get(route, _EMPTY).upstream
        )
