"""Words users and help centres use for the same thing, across products: a small, generic
support vocabulary (accounts, billing, settings, errors, spelling variants), not any one
product's terms. A question's word (or two- and three-word phrase) in a group brings the
group's other members in as alternatives."""

from __future__ import annotations

from storage.knowledge_words import words

GROUPS: tuple[tuple[str, ...], ...] = (
    ("log in", "login", "sign in", "signin", "log on", "logon"),
    ("log out", "logout", "sign out", "signout"),
    ("sign up", "signup", "register", "registration", "create an account"),
    ("delete", "remove", "erase", "get rid of"),
    ("password", "passphrase", "passcode"),
    ("email", "e-mail"),
    ("username", "user name", "handle", "screen name"),
    ("profile picture", "profile pic", "profile photo", "avatar"),
    ("banner", "header image", "cover photo", "cover image"),
    ("picture", "photo", "image", "pic"),
    ("settings", "preferences", "options"),
    ("configure", "config", "configuration", "set up", "setup"),
    ("two factor", "2fa", "two-factor", "mfa", "multi-factor", "authenticator app"),
    ("notification", "alert"),
    ("export", "download a copy"),
    ("import", "upload"),
    ("error", "problem", "issue", "failure", "broken", "bug"),
    ("private message", "direct message", "dm", "pm"),
    ("subscription", "plan", "membership"),
    ("price", "pricing", "cost", "fee"),
    ("invoice", "bill", "billing", "receipt"),
    ("refund", "money back", "reimburse"),
    ("cancel", "unsubscribe"),
    ("change", "edit", "modify"),
    ("move", "migrate", "transfer", "switch"),
    ("search", "look up", "lookup", "find"),
    ("block", "ban"),
    ("mute", "silence"),
    ("report", "flag"),
    ("install", "installation"),
    ("upgrade", "update"),
    ("slow", "performance", "latency", "lag"),
    ("limit", "maximum", "max", "quota", "cap"),
    ("api key", "access token", "api token", "token"),
    ("app", "application", "client"),
    ("phone", "mobile", "smartphone", "iphone", "android"),
    ("desktop", "computer", "laptop", "pc"),
    ("dark mode", "dark theme", "night mode"),
    ("organization", "organisation", "company"),
    ("colour", "color"),
    ("favourite", "favorite"),
    ("customise", "customize"),
    ("organise", "organize"),
    ("licence", "license"),
    ("behaviour", "behavior"),
    ("backup", "back up"),
    ("single sign on", "single sign-on", "sso", "saml"),
    ("admin", "administrator"),
    ("moderator", "mod"),
    ("server", "instance"),
    ("forgot", "reset", "recover", "lost"),
    ("link", "url"),
    ("website", "site", "homepage"),
    ("alt text", "image description", "media description"),
    ("verify", "verification", "verified", "checkmark"),
    ("follower", "subscriber"),
    ("automatic", "automatically", "auto"),
    ("notify", "notified"),
    ("help", "support"),
)


def synonym_table() -> dict[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """Each member's words -> the other members' words."""
    table: dict[tuple[str, ...], tuple[tuple[str, ...], ...]] = {}
    for group in GROUPS:
        members = [tuple(words(member)) for member in group]
        for member in members:
            table[member] = tuple(m for m in members if m != member)
    return table
