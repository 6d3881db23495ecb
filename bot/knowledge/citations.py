"""What an answer cites: a page of the docs, its section and its link."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Citation:
    title: str
    section: str  # the heading path, title first ("Billing › Change your VAT ID")
    url: str | None
    path: str  # the document's path, shown when there is no link

    @property
    def label(self) -> str:
        return self.section or self.title
