"""Which anonymous devices a signed-in account has claimed (docs/privacy.md).

Chats keep the user id they were started with (`ChatUserId`, a search attribute the workflow
sets once). Claiming does not rewrite them: it records that the device now belongs to the
account, and the account's chats are those whose `ChatUserId` is the account or one of its
devices. So a claim is one small write, cannot stop halfway through a list of chats, and old
histories need no change.

Keys (no expiry: a claim lasts as long as the chats it hands over):

| key | what |
|---|---|
| `identity:device-claim:{device user id}` | the account that claimed the device |
| `identity:account-devices:{account user id}` | set of the device user ids it claimed |

A device is claimed once: a second account is refused, so a device token that leaked after
its owner signed in cannot hand that owner's chats to someone else. The caller proves the
device by its signed device token and the account by its sign-in.
"""

from __future__ import annotations

from enum import StrEnum

import redis.asyncio as redis

# KEYS: the device's claim, the account's device set. ARGV: account id, device id.
# Returns {the account that holds the device after the call, 1 if this call claimed it}.
_CLAIM = """
local owner = redis.call('GET', KEYS[1])
if not owner then
  redis.call('SET', KEYS[1], ARGV[1])
  redis.call('SADD', KEYS[2], ARGV[2])
  return {ARGV[1], 1}
end
return {owner, 0}
"""


class ClaimOutcome(StrEnum):
    CLAIMED = "claimed"
    ALREADY_YOURS = "already_yours"
    CLAIMED_BY_ANOTHER = "claimed_by_another"


def _claim_key(device_user_id: str) -> str:
    return f"identity:device-claim:{device_user_id}"


def _devices_key(account_user_id: str) -> str:
    return f"identity:account-devices:{account_user_id}"


class DeviceClaims:
    """The device -> account map, kept in Redis."""

    def __init__(self, redis_client: redis.Redis) -> None:
        self._redis = redis_client
        self._claim = redis_client.register_script(_CLAIM)

    async def claim(self, device_user_id: str, account_user_id: str) -> ClaimOutcome:
        owner, claimed_now = await self._claim(
            keys=[_claim_key(device_user_id), _devices_key(account_user_id)],
            args=[account_user_id, device_user_id],
        )
        holder = owner.decode() if isinstance(owner, bytes) else str(owner)
        if holder != account_user_id:
            return ClaimOutcome.CLAIMED_BY_ANOTHER
        return ClaimOutcome.CLAIMED if claimed_now else ClaimOutcome.ALREADY_YOURS

    async def owner_ids(self, account_user_id: str) -> list[str]:
        """Every `ChatUserId` whose chats are this account's: itself, then its devices."""
        devices = await self._redis.smembers(_devices_key(account_user_id))
        return [
            account_user_id,
            *sorted(d.decode() if isinstance(d, bytes) else d for d in devices),
        ]

    async def account_of(self, device_user_id: str) -> str | None:
        """The account that claimed this device, if any."""
        owner = await self._redis.get(_claim_key(device_user_id))
        if owner is None:
            return None
        return owner.decode() if isinstance(owner, bytes) else str(owner)
