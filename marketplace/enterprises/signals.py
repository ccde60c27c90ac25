"""What the enterprise's consents publish, for the packages above to react to (the house's rule:
enterprises/ knows nothing of requests or desks; they subscribe here at app start).

Receivers run inside the caller's transaction, after the consent row is flushed, and may return
a value the caller collects (`send` returns [(receiver, value), ...]).
"""

from __future__ import annotations

from blinker import Namespace

_consents = Namespace()

# sender: the Consent; kwargs: actor (the User who revoked it)
consent_revoked = _consents.signal("consent-revoked")
# sender: the Consent; kwargs: actor (the User who granted it)
consent_granted = _consents.signal("consent-granted")
