"""Ports chosen once per profile and remembered (`.data/<profile>/run/ports.json`).

A component keeps the port it was given the first time, so bookmarks and
`stack.env` stay right from one `up` to the next. Only when another process
(another copy of the platform, say) holds a remembered port while ours is not
running is it replaced, and the replacement is said and remembered.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path

from clearance_local.process import free_port, port_is_open


class PortBook:
    """Name -> port of one profile's components, persisted on every change."""

    def __init__(
        self, path: Path, wanted: Mapping[str, int], fixed: Mapping[str, int] | None = None
    ) -> None:
        self.path = path
        self.ports: dict[str, int] = {}
        if path.exists():
            self.ports = {name: int(port) for name, port in json.loads(path.read_text()).items()}
        self.ports.update(fixed or {})
        #: What was said about ports chosen other than wanted (`up` prints it).
        self.notes: list[str] = []
        for name, port in wanted.items():
            if name not in self.ports:
                self.ports[name] = chosen = self._choose(port)
                if port and chosen != port:
                    self.notes.append(
                        f"  {name:<14} port {port} is taken by another process: using {chosen} "
                        "(remembered)"
                    )
        self.save()

    def __getitem__(self, name: str) -> int:
        return self.ports[name]

    def _choose(self, wanted: int) -> int:
        taken = set(self.ports.values())
        port = wanted if wanted and wanted not in taken else 0
        port = free_port(port)
        while port in taken:
            port = free_port(0)
        return port

    def replace_if_taken(self, name: str, ours_running: bool, log: Callable[[str], None]) -> int:
        """Keep `name`'s port unless something not ours listens there; then take another."""
        port = self.ports[name]
        if ours_running or not port_is_open(port):
            return port
        new = self._choose(0)
        self.ports[name] = new
        self.save()
        log(f"  {name:<14} port {port} is taken by another process: using {new} (remembered)")
        return new

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self.ports, indent=2) + "\n")
