"""The whole schema in one place: importing every module that defines tables fills `metadata`."""

from __future__ import annotations

import storage.amends
import storage.deliveries
import storage.followups
import storage.learning
import storage.records
import storage.workspaces
from storage.tables import Base

metadata = Base.metadata
TABLE_MODULES = (
    storage.amends,
    storage.deliveries,
    storage.followups,
    storage.learning,
    storage.records,
    storage.workspaces,
)
