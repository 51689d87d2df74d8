"""``UserRepository``: who is who, by address, login role or FileMeta role."""

from __future__ import annotations

import ipaddress

from sqlalchemy import String, func, or_, select, type_coerce

from filemeta_gui.db.models import User
from filemeta_gui.db.types import normalize_ip
from filemeta_gui.domain.enums import Role
from filemeta_gui.repositories.base import BaseRepository, dialect_name

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _network(text: str) -> Network:
    # An address is the network of itself alone (/32 or /128): containment then covers both.
    return ipaddress.ip_network(text, strict=False)


def _contains(registered: str, wanted: Network) -> bool:
    network = _network(registered)
    return network.version == wanted.version and wanted.subnet_of(network)  # type: ignore[arg-type]


class UserRepository(BaseRepository[User]):
    model = User
    noun = "user"

    async def by_ip(self, address: str) -> User | None:
        """The user registered for ``address``, or for the narrowest network holding it.

        ``10.0.0.7`` matches a user registered as ``10.0.0.7``, ``10.0.0.0/24`` or
        ``10.0.0.0/8`` (in that order of preference). Raises ``ValidationError`` for text
        that is not an address.
        """
        wanted = normalize_ip(address)
        if dialect_name(self.session) == "postgresql":
            return await self._by_ip_postgresql(wanted)
        return await self._by_ip_sqlite(wanted)

    async def by_login(self, login: str) -> User | None:
        return await self.session.scalar(select(User).where(User.login == login))

    async def by_role(self, role: Role) -> list[User]:
        query = select(User).where(User.role == role).order_by(User.created_at, User.id)
        return list((await self.session.scalars(query)).all())

    async def _by_ip_postgresql(self, wanted: str) -> User | None:
        # inet ">>=": contains or equals; the server compares the bits, any prefix length.
        query = (
            select(User)
            .where(User.ip_address.op(">>=", is_comparison=True)(wanted))
            .order_by(func.masklen(User.ip_address).desc(), User.created_at, User.id)
            .limit(1)
        )
        return await self.session.scalar(query)

    async def _by_ip_sqlite(self, wanted: str) -> User | None:
        # SQLite has no address type: fetch the exact match and every registered network
        # (there are few), then compare bits with the ipaddress module.
        is_network = type_coerce(User.ip_address, String).contains("/")
        query = select(User).where(or_(User.ip_address == wanted, is_network))
        target = _network(wanted)
        matches = [u for u in await self.session.scalars(query) if _contains(u.ip_address, target)]
        matches.sort(key=lambda u: (-_network(u.ip_address).prefixlen, u.created_at, u.id))
        return matches[0] if matches else None
