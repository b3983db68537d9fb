"""Orchestrator capabilities: pure functions over the user's files and words.

Entry points: `plan_capability` decides, `run_capability` runs and never raises.
"""

from agents.capabilities.planning import plan_capability, run_capability
from agents.capabilities.types import (
    MAX_UPLOAD_BYTES,
    Capability,
    CapabilityInputError,
    CapabilityRequest,
    Upload,
)

__all__ = [
    "MAX_UPLOAD_BYTES",
    "Capability",
    "CapabilityInputError",
    "CapabilityRequest",
    "Upload",
    "plan_capability",
    "run_capability",
]
