"""The checks behind validate_packaging.py, one concern per module: kustomize (rendering), manifests (the rendered
objects), dockerfiles, systemd, and self_test (planted mistakes each validator must refuse)."""

from __future__ import annotations


class Findings:
    """Collects problems as 'file: field: message' lines."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, file: str, where: str, message: str) -> None:
        item = f"{file}: {where}: {message}"
        if item not in self.items:  # a base's file is rendered by each kustomization that includes it
            self.items.append(item)

    def __len__(self) -> int:
        return len(self.items)
