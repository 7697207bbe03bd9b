"""The navigation bar's entries, kept per application so that each capability adds its own pages.

A capability's ``install(app)`` calls ``nav_registry(app).add(NavItem(...))``; the layout shows an entry only to
viewers holding its scope. Labels are English message ids translated through the mamori catalog; a capability
whose labels are not in the catalog passes ``translations={"ja": ..., "en": ...}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from mamori.errors import Conflict, InvalidInput
from mamori.identity.model import Principal, Scope


@dataclass(frozen=True)
class NavItem:
    """One entry of the navigation bar."""

    path: str
    label: str
    scope: Scope | None = None
    order: int = 100
    translations: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if not self.path.startswith("/") or self.path.startswith("//"):
            raise InvalidInput(f"navigation path {self.path!r} must be a local path starting with '/'",
                               where="nav.path")
        if not self.label.strip():
            raise InvalidInput("navigation label is empty", where="nav.label")

    def visible_to(self, principal: Principal) -> bool:
        return self.scope is None or principal.has(self.scope)

    def text(self, locale: str, gettext: Any) -> str:
        """The label in ``locale``: an explicit translation, else the catalog's."""
        explicit = self.translations.get(locale)
        return explicit if explicit else str(gettext(self.label))

    def is_current(self, path: str) -> bool:
        if self.path == "/":
            return path == "/"
        return path == self.path or path.startswith(self.path.rstrip("/") + "/")


class NavRegistry:
    """The ordered entries of one application."""

    def __init__(self) -> None:
        self._items: dict[str, NavItem] = {}

    def add(self, item: NavItem) -> None:
        if item.path in self._items:
            raise Conflict(f"navigation entry for {item.path!r} already registered", where="nav.path")
        self._items[item.path] = item

    def items(self) -> list[NavItem]:
        return sorted(self._items.values(), key=lambda i: (i.order, i.path))

    def for_viewer(self, principal: Principal) -> list[NavItem]:
        return [i for i in self.items() if i.visible_to(principal)]


def nav_registry(app: Any) -> NavRegistry:
    """The registry of a FastAPI/Starlette app, created on first use (capabilities may install before the web UI)."""
    registry = getattr(app.state, "web_nav", None)
    if registry is None:
        registry = NavRegistry()
        app.state.web_nav = registry
    assert isinstance(registry, NavRegistry)
    return registry


__all__ = ["NavItem", "NavRegistry", "nav_registry"]
