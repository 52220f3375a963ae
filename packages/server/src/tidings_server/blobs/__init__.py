"""Blob storage for raw messages and attachments, behind the `BlobStore` protocol.

Blobs are content-addressed (SHA-256), written durably before any row refers to them, and
never updated in place; blobs no row refers to are collected later.
"""

from tidings_server.blobs.files import FileBlobStore
from tidings_server.blobs.protocol import BlobNotFound, BlobStore

__all__ = ["BlobNotFound", "BlobStore", "FileBlobStore"]
