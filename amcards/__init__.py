"""A client for the AMcards API: greeting cards, gift cards and drip
campaigns, sent from Python.

Importing the package is cheap: the client, the models and the errors are
loaded the first time they are used.  ``amcards.core.validators`` can be
imported alone and loads nothing outside the standard library.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

__version__ = "2.0.0.dev0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

if TYPE_CHECKING:
    from amcards.client import AMcardsClient
    from amcards.core.errors import (
        AMcardsException,
        AuthenticationError,
        CampaignSendError,
        CardSendError,
        CardsSendError,
        DateFormatError,
        DuplicateCampaignError,
        ForbiddenCampaignError,
        ForbiddenCardError,
        ForbiddenContactError,
        ForbiddenMailingError,
        ForbiddenResourceError,
        ForbiddenTemplateError,
        InsufficientCreditsError,
        OAuthTokenRefreshError,
        PhoneFormatError,
        RateLimitError,
        SendInProgressError,
        SendOutcomeUnknownError,
        ServerError,
        ShippingAddressError,
        SpendingLimitError,
        TransportError,
        UnexpectedResponseError,
        ValidationError,
    )
    from amcards.core.http import Timeout

__all__ = [
    "AMcardsClient",
    "AMcardsException",
    "AuthenticationError",
    "CampaignSendError",
    "CardSendError",
    "CardsSendError",
    "DateFormatError",
    "DuplicateCampaignError",
    "ForbiddenCampaignError",
    "ForbiddenCardError",
    "ForbiddenContactError",
    "ForbiddenMailingError",
    "ForbiddenResourceError",
    "ForbiddenTemplateError",
    "InsufficientCreditsError",
    "OAuthTokenRefreshError",
    "PhoneFormatError",
    "RateLimitError",
    "SendInProgressError",
    "SendOutcomeUnknownError",
    "ServerError",
    "ShippingAddressError",
    "SpendingLimitError",
    "Timeout",
    "TransportError",
    "UnexpectedResponseError",
    "ValidationError",
    "__version__",
]

_HOMES = {
    "AMcardsClient": "amcards.client",
    "Timeout": "amcards.core.http",
}


def __getattr__(name: str) -> Any:
    if name not in __all__ or name == "__version__":
        raise AttributeError(f"module 'amcards' has no attribute {name!r}")
    module = importlib.import_module(_HOMES.get(name, "amcards.core.errors"))
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
