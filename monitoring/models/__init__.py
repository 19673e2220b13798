"""The monitoring app's tables, a module a part of the flow: who may call (`tenancy`),
stores and what they are told (`stores`), their polls (`polls`), background reports
(`reports`) and kept daily figures (`history`); `checks` holds what they share."""

from monitoring.models.history import DaySummary
from monitoring.models.polls import POLL_TIME_INDEX, StatusPoll, StatusPollRow
from monitoring.models.reports import Report, ReportChunk, ReportRangeRow, ReportRow, StoredCsvDescriptor, StoredCsvField
from monitoring.models.stores import BusinessHours, SpecialHours, Store, StoreRevenue
from monitoring.models.tenancy import ApiToken, Owner

__all__ = [
    "ApiToken",
    "BusinessHours",
    "DaySummary",
    "Owner",
    "POLL_TIME_INDEX",
    "Report",
    "ReportChunk",
    "ReportRangeRow",
    "ReportRow",
    "SpecialHours",
    "StatusPoll",
    "StatusPollRow",
    "Store",
    "StoreRevenue",
    "StoredCsvDescriptor",
    "StoredCsvField",
]
