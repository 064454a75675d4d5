"""The product inventory: products, their streams and the components each ships."""

from __future__ import annotations

from pydantic import BaseModel
from sqlmodel import Field, SQLModel, UniqueConstraint


class Product(SQLModel, table=True):
    """A product the PSIRT is responsible for."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True)


class Stream(SQLModel, table=True):
    """A supported stream (release line) of a product."""

    __table_args__ = (UniqueConstraint("product_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="product.id", index=True)
    name: str
    compliance_priority: bool = False
    owner: str | None = None


class ComponentBase(SQLModel):
    """A component shipped in a stream, at one version."""

    name: str = Field(index=True)
    version: str | None = None
    purl: str | None = Field(default=None, index=True)
    cpe: str | None = None


class Component(ComponentBase, table=True):
    """A component row in the inventory database."""

    id: int | None = Field(default=None, primary_key=True)
    stream_id: int = Field(foreign_key="stream.id", index=True)


class ComponentPublic(ComponentBase):
    """A component as matching and the CLI see it."""


class StreamInventory(BaseModel):
    """One stream with its components, the unit automatic triage works on."""

    product: str
    stream: str
    owner: str | None = None
    compliance_priority: bool = False
    components: list[ComponentPublic] = []
