"""Temporal payload encryption with one AES-GCM data key per chat (docs/privacy.md).

temporalio (1.35) hands a codec that implements `WithSerializationContext` the workflow a
payload belongs to: a `WorkflowSerializationContext` for a workflow's input, updates,
queries and results (on the client and in the worker's activations) and an
`ActivitySerializationContext` carrying the workflow id for its activities. The codec
encrypts under that workflow's key and writes the key id into the payload's metadata, so
decoding needs no context: it reads the key id and asks the key store. Payloads that were
never encrypted (histories recorded before encryption was turned on) decode unchanged.

The key id is also the AES-GCM associated data, so a ciphertext copied under another chat's
key id does not decrypt.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import (
    DataConverter,
    PayloadCodec,
    SerializationContext,
    WithSerializationContext,
)

from foundations.payload_keys import SHARED_KEY_ID, PayloadKeyStore

ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
NONCE_BYTES = 12


class PayloadKeyGone(Exception):
    """The payload's chat was deleted: its key is gone, and so is every way to read it."""


def _every_workflow(workflow_id: str) -> bool:
    return True


class ChatPayloadCodec(PayloadCodec, WithSerializationContext):
    """Encrypts payloads under their chat's key; decrypts any payload whose key still exists."""

    def __init__(
        self,
        keys: PayloadKeyStore,
        key_id: str = SHARED_KEY_ID,
        seal: bool = True,
        own_key: Callable[[str], bool] = _every_workflow,
    ) -> None:
        self._keys = keys
        self._key_id = key_id
        # False: decode only. A rolling deploy first runs every process decoding, then turns
        # sealing on, so no process ever receives a payload it cannot read.
        self._seal = seal
        # Which workflows get a key of their own. Others (a chat's deletion, which carries no
        # message text) use the shared key: a key of their own would outlive the chat.
        self._own_key = own_key

    def with_context(self, context: SerializationContext) -> ChatPayloadCodec:
        workflow_id = getattr(context, "workflow_id", None)
        key_id = workflow_id if workflow_id and self._own_key(workflow_id) else SHARED_KEY_ID
        return ChatPayloadCodec(self._keys, key_id, self._seal, self._own_key)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        # Nothing to seal makes no key: a call about a deleted chat must not bring its key back.
        if not self._seal or not payloads:
            return list(payloads)
        aead = AESGCM(await self._keys.get_or_create(self._key_id))
        key_id = self._key_id.encode()
        encoded = []
        for payload in payloads:
            nonce = os.urandom(NONCE_BYTES)
            sealed = aead.encrypt(nonce, payload.SerializeToString(), key_id)
            encoded.append(
                Payload(
                    metadata={"encoding": ENCODING, KEY_ID_METADATA: key_id},
                    data=nonce + sealed,
                )
            )
        return encoded

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [await self._decode_one(payload) for payload in payloads]

    async def _decode_one(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        key_id = payload.metadata.get(KEY_ID_METADATA, b"").decode()
        key = await self._keys.get(key_id)
        if key is None:
            raise PayloadKeyGone(f"the data key {key_id} was deleted; this payload is unreadable")
        nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
        try:
            plain = AESGCM(key).decrypt(nonce, sealed, key_id.encode())
        except InvalidTag as error:
            raise ValueError(f"a payload under key {key_id} failed authentication") from error
        return Payload.FromString(plain)


def encrypted_data_converter(
    keys: PayloadKeyStore,
    base: DataConverter = DataConverter.default,
    seal: bool = True,
    own_key: Callable[[str], bool] = _every_workflow,
) -> DataConverter:
    """`base` with the chat codec: the one data converter for the worker and the API's client.

    `seal=False` reads encrypted payloads but writes plain ones (the first step of turning
    encryption on, or of turning it off). `own_key` says which workflow ids are chats, each
    with its own key; the rest use the shared key."""
    return dataclasses.replace(
        base, payload_codec=ChatPayloadCodec(keys, seal=seal, own_key=own_key)
    )
