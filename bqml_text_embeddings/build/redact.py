"""Source handles with their credentials blanked, for everything the build writes or says.

A mirror's URL may carry a secret: userinfo (`https://user:password@host/…`) or a signed URL's
query parameters (`X-Goog-Signature`, `token`, `key`, `sig`, `access_token`, …). Manifests sit in
`.build/`, which CI caches, and messages reach logs: both get the handle with those parts replaced
by REDACTED. The cache key hashes the full handle, so a changed source still rebuilds.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

MARK = "REDACTED"
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")
# A parameter whose name holds one of these is taken for a credential (over-redacting costs nothing).
_SECRET_WORDS = ("token", "key", "sig", "secret", "password", "passwd", "pwd", "credential", "auth")
_PARAMETER = re.compile(r"([?&#;])([^=&#;]*)=([^&#;]*)")


def redact(text: str) -> str:
    """`text` (a handle, or a message naming handles) with every URL's credentials replaced by REDACTED."""
    return _URL.sub(lambda found: _url(found[0]), text)


def _url(url: str) -> str:
    scheme, _, rest = url.partition("://")
    # Userinfo ends at the URL's last "@", so a password with an unescaped "/", "?", "#" or "@" is blanked
    # whole (an "@" further on, in a path or query, costs the host in what is shown, never the secret).
    if "@" in rest:
        rest = f"{MARK}@{rest.rsplit('@', 1)[1]}"
    host_end = min((at for at in (rest.find("?"), rest.find("#")) if at >= 0), default=len(rest))
    return f"{scheme}://{rest[:host_end]}{_PARAMETER.sub(_parameter, rest[host_end:])}"


def _parameter(found: re.Match[str]) -> str:
    name = unquote(found[2]).lower()
    if any(word in name for word in _SECRET_WORDS):
        return f"{found[1]}{found[2]}={MARK}"
    return found[0]
