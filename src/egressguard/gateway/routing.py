"""Pick declared upstreams for a request: never a host from the request.

The primary upstream is the tenant's or route's override, else `[policy] default_upstream`;
when its API kind does not fit the route (`/v1/messages` needs an Anthropic upstream, every
other route an OpenAI one), the first declared upstream of the right kind. Its `fallback`
chain follows, breadth first. Upstreams outside the regions the policy allows for the detected
categories are dropped; if none is left, the request is refused (403) before anything is sent.
"""

from __future__ import annotations

from collections.abc import Iterable

from egressguard.gateway.policy import Policy
from egressguard.gateway.problems import Rejected
from egressguard.gateway.settings import GatewaySettings, UpstreamKind, UpstreamSettings

ANTHROPIC_ROUTES = frozenset({"/v1/messages"})


def route_kind(route: str) -> UpstreamKind:
    return "anthropic" if route in ANTHROPIC_ROUTES else "openai"


class Router:
    def __init__(self, settings: GatewaySettings, policy: Policy) -> None:
        self._by_id = {u.id: u for u in settings.upstreams}
        self._ordered = settings.upstreams
        self._policy = policy

    def chain(self, tenant: str, route: str) -> list[UpstreamSettings]:
        """Primary upstream then its fallbacks, all of the route's kind (regions not checked)."""
        kind = route_kind(route)
        first = self._by_id[
            self._policy.upstream_for(tenant, route) or self._policy.settings.default_upstream
        ]
        if first.kind != kind:
            first = next((u for u in self._ordered if u.kind == kind), first)
        seen: dict[str, UpstreamSettings] = {}
        queue = [first]
        while queue:
            up = queue.pop(0)
            if up.id in seen:
                continue
            seen[up.id] = up
            queue.extend(self._by_id[f] for f in up.fallback)
        return [u for u in seen.values() if u.kind == kind]

    def candidates(
        self, tenant: str, route: str, categories: Iterable[str]
    ) -> list[UpstreamSettings]:
        """Upstreams to try in order, or 403 when the policy allows none of them."""
        cats = sorted(set(categories))
        allowed = self._policy.allowed_regions(tenant, cats)
        chain = self.chain(tenant, route)
        usable = [u for u in chain if u.region in allowed]
        if not usable:
            if not chain:
                raise Rejected(
                    403, "no_upstream", f"no {route_kind(route)} upstream is declared for {route}"
                )
            what = f" for the detected categories {', '.join(cats)}" if cats else ""
            regions = ", ".join(sorted(allowed)) or "none"
            raise Rejected(
                403,
                "region_not_allowed",
                f"no upstream in an allowed region ({regions}){what}",
            )
        return usable

    def models_upstreams(self, tenant: str) -> list[UpstreamSettings]:
        """Upstreams whose models a tenant may see: any kind, in the tenant's regions."""
        allowed = self._policy.allowed_regions(tenant, ())
        return [u for u in self._ordered if u.region in allowed]
