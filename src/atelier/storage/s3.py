"""S3 (or S3-compatible: MinIO, Ceph, R2, moto) storage through boto3.

Keys are validated exactly as by the local backend, so an application behaves the same on both,
and are stored under ``<prefix>/<key>`` in the bucket. Errors are mapped onto the storage
exceptions: a missing object is :class:`ObjectNotFound`; anything else that goes wrong talking to
the service (refused connection, timeout, missing bucket, access denied) is
:class:`StorageError`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from atelier.config import S3Settings
from atelier.storage.base import (
    DEFAULT_CONTENT_TYPE,
    ObjectNotFound,
    StorageError,
    StoredObject,
    validate_key,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_NOT_FOUND = frozenset({"NoSuchKey", "NotFound", "404"})
_NO_BUCKET = frozenset({"NoSuchBucket", "NotFound", "404"})
_BUCKET_EXISTS = frozenset({"BucketAlreadyOwnedByYou", "BucketAlreadyExists"})


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def _strip_etag(etag: str) -> str:
    etag = etag.strip()
    if etag.startswith("W/"):
        etag = etag[2:]
    return etag.strip('"')


class S3Storage:
    """Objects in an S3 bucket."""

    name: str = "s3"

    def __init__(self, settings: S3Settings) -> None:
        self.bucket = settings.bucket
        self.prefix = settings.prefix.strip("/")
        if self.prefix:
            validate_key(self.prefix)
        config = Config(
            region_name=settings.region or None,
            signature_version="s3v4",
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
            retries={"mode": "standard", "max_attempts": settings.max_attempts},
            s3={"addressing_style": settings.addressing_style},
            # botocore >= 1.36 adds CRC trailers (aws-chunked uploads) by default, which several
            # S3-compatible servers reject; checksums only where the API requires them.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        secret = settings.secret_access_key.get_secret_value()
        # A private session: boto3's default session is shared module state and not thread-safe.
        try:
            session = boto3.session.Session()
            self._client: S3Client = session.client(
                "s3",
                endpoint_url=settings.endpoint_url or None,
                aws_access_key_id=settings.access_key_id or None,
                aws_secret_access_key=secret or None,
                region_name=settings.region or None,
                config=config,
            )
        except BotoCoreError as exc:  # e.g. AWS_PROFILE naming a missing profile
            raise StorageError(f"cannot configure the S3 client: {exc}") from exc
        self._region = settings.region
        if settings.create_bucket:
            try:
                self.ensure_bucket()
            except BaseException:
                self.close()
                raise

    # -- helpers -----------------------------------------------------------------------------
    def _object_key(self, key: str) -> str:
        validate_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    @contextmanager
    def _errors(self, action: str, key: str) -> Iterator[None]:
        try:
            yield
        except ClientError as exc:
            if _error_code(exc) in _NOT_FOUND:
                raise ObjectNotFound(key) from None
            raise StorageError(
                f"S3 {action} {key!r} in bucket {self.bucket!r} failed: "
                f"{_error_code(exc) or _status(exc)}: {exc}"
            ) from exc
        except BotoCoreError as exc:
            raise StorageError(f"S3 {action} {key!r} failed: {exc}") from exc

    def ensure_bucket(self) -> None:
        """Create the bucket when it does not exist."""
        try:
            self._client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as exc:
            if _error_code(exc) not in _NO_BUCKET:
                raise StorageError(f"S3 bucket {self.bucket!r} is not usable: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"S3 endpoint is not reachable: {exc}") from exc
        try:
            kwargs: dict[str, Any] = {"Bucket": self.bucket}
            if self._region and self._region != "us-east-1":
                kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self._region}
            self._client.create_bucket(**kwargs)
        except ClientError as exc:
            if _error_code(exc) not in _BUCKET_EXISTS:
                raise StorageError(f"could not create S3 bucket {self.bucket!r}: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"could not create S3 bucket {self.bucket!r}: {exc}") from exc

    # -- operations --------------------------------------------------------------------------
    def put(self, key: str, data: bytes, content_type: str) -> StoredObject:
        name = self._object_key(key)
        content_type = content_type or DEFAULT_CONTENT_TYPE
        with self._errors("put", key):
            response = self._client.put_object(
                Bucket=self.bucket, Key=name, Body=data, ContentType=content_type
            )
        return StoredObject(
            key=key,
            size=len(data),
            etag=_strip_etag(response.get("ETag", "")),
            content_type=content_type,
        )

    def get(self, key: str) -> bytes:
        name = self._object_key(key)
        with self._errors("get", key):
            response = self._client.get_object(Bucket=self.bucket, Key=name)
            body = response["Body"]
            try:
                return body.read()
            finally:
                body.close()

    def stat(self, key: str) -> StoredObject:
        name = self._object_key(key)
        with self._errors("stat", key):
            response = self._client.head_object(Bucket=self.bucket, Key=name)
        return StoredObject(
            key=key,
            size=int(response.get("ContentLength", 0)),
            etag=_strip_etag(response.get("ETag", "")),
            content_type=response.get("ContentType") or DEFAULT_CONTENT_TYPE,
        )

    def delete(self, key: str) -> None:
        name = self._object_key(key)
        try:
            with self._errors("delete", key):
                self._client.delete_object(Bucket=self.bucket, Key=name)
        except ObjectNotFound:
            return  # S3 itself does not complain; some compatible servers do

    def exists(self, key: str) -> bool:
        try:
            self.stat(key)
        except ObjectNotFound:
            return False
        return True

    def iter_keys(self) -> Iterator[str]:
        """Every key under the prefix, in no particular order."""
        start = f"{self.prefix}/" if self.prefix else ""
        paginator = self._client.get_paginator("list_objects_v2")
        with self._errors("list", start or "/"):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=start):
                for item in page.get("Contents", []):
                    yield item["Key"][len(start) :]

    def close(self) -> None:
        """Release the client's connection pool."""
        self._client.close()
