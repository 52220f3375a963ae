"""The answer to a DELETE."""

from pydantic import BaseModel


class Deleted(BaseModel):
    id: str
    deleted: bool = True
