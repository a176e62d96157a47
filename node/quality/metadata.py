"""Catalog metadata of a dataset (DCAT-style) and the catalog's DCAT JSON-LD export.

The owner writes the metadata once per dataset (and again when it changes); its canonical
JSON is stored in the owner's document store and its SHA-256 anchored with the theme, so a
consumer checks what it reads against the chain.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from node.errors import InvalidInput, describe_validation
from node.quality.ledger import THEMES

#: Dublin Core / DCAT frequencies (http://purl.org/cld/freq/) and their lengths in seconds
FREQUENCIES: dict[str, int] = {
    "daily": 86_400,
    "weekly": 7 * 86_400,
    "monthly": 30 * 86_400,
    "quarterly": 91 * 86_400,
    "semiannual": 182 * 86_400,
    "annual": 365 * 86_400,
    "irregular": 0,
}
_ADCODE = re.compile(r"^5101\d{2}$")


class Temporal(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: dt.date
    end: dt.date

    @field_validator("end")
    @classmethod
    def _ordered(cls, end: dt.date, info: Any) -> dt.date:
        start = info.data.get("start")
        if start is not None and end < start:
            raise ValueError("ends before it starts")
        return end


class Contact(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=128)
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)


class CatalogMetadata(BaseModel):
    """What a consumer reads about a dataset before applying."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    theme: str
    title_zh: str = Field(min_length=1, max_length=200)
    title_en: str = Field(min_length=1, max_length=200)
    description_zh: str = Field(default="", max_length=4000)
    description_en: str = Field(default="", max_length=4000)
    publisher: str = Field(min_length=1, max_length=128)
    keywords: list[str] = Field(default_factory=list, max_length=32)
    temporal: Temporal | None = None
    #: Chengdu admin-unit codes (510100 the city, 5101xx its districts and counties)
    spatial: list[str] = Field(default_factory=list, max_length=64)
    update_frequency: str = "irregular"
    licence: str = Field(default="internal-use", max_length=128)
    contact: Contact

    @field_validator("theme")
    @classmethod
    def _theme(cls, v: str) -> str:
        if v not in THEMES:
            raise ValueError(f"one of {', '.join(THEMES)}")
        return v

    @field_validator("update_frequency")
    @classmethod
    def _frequency(cls, v: str) -> str:
        if v not in FREQUENCIES:
            raise ValueError(f"one of {', '.join(FREQUENCIES)}")
        return v

    @field_validator("spatial")
    @classmethod
    def _spatial(cls, v: list[str]) -> list[str]:
        bad = [c for c in v if not _ADCODE.match(c)]
        if bad:
            raise ValueError(f"not Chengdu admin-unit codes (5101xx): {', '.join(bad)}")
        return v

    def matches(self, keyword: str) -> bool:
        k = keyword.casefold()
        fields = (self.title_zh, self.title_en, self.description_zh, self.description_en)
        return any(k in f.casefold() for f in fields) or any(
            k == w.casefold() for w in self.keywords
        )

    def covers(self, year: int | None = None, adcode: str | None = None) -> bool:
        if year is not None and (
            self.temporal is None or not self.temporal.start.year <= year <= self.temporal.end.year
        ):
            return False
        # the city's own code covers every district
        return adcode is None or adcode in self.spatial or "510100" in self.spatial


def parse_metadata(data: Any) -> CatalogMetadata:
    try:
        return CatalogMetadata.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(
            f"invalid catalog metadata: {describe_validation(exc, 'metadata')}"
        ) from None


def dcat_jsonld(entries: list[dict[str, Any]], *, base: str) -> dict[str, Any]:
    """A DCAT catalog of ``entries`` (each: dataset_id, owner, metadata dict, versions,
    quality) as JSON-LD."""
    datasets = []
    for e in entries:
        m = e.get("metadata")
        node: dict[str, Any] = {
            "@id": f"{base}/datasets/{e['dataset_id']}",
            "@type": "dcat:Dataset",
            "dct:identifier": e["dataset_id"],
            "dcat:theme": f"{base}/themes/{e['theme']}",
        }
        if m:
            node |= {
                "dct:title": [
                    {"@value": m["title_zh"], "@language": "zh"},
                    {"@value": m["title_en"], "@language": "en"},
                ],
                "dct:description": [
                    {"@value": m["description_zh"], "@language": "zh"},
                    {"@value": m["description_en"], "@language": "en"},
                ],
                "dct:publisher": {"@type": "foaf:Agent", "foaf:name": m["publisher"]},
                "dcat:keyword": m["keywords"],
                "dct:accrualPeriodicity": {
                    "@id": f"http://purl.org/cld/freq/{m['update_frequency']}"
                },
                "dct:license": m["licence"],
                "dcat:contactPoint": {
                    "@type": "vcard:Kind",
                    "vcard:fn": m["contact"]["name"],
                    "vcard:hasEmail": f"mailto:{m['contact']['email']}",
                },
                "dct:spatial": [{"dct:identifier": c} for c in m["spatial"]],
            }
            if m.get("temporal"):
                node["dct:temporal"] = {
                    "@type": "dct:PeriodOfTime",
                    "dcat:startDate": {"@value": m["temporal"]["start"], "@type": "xsd:date"},
                    "dcat:endDate": {"@value": m["temporal"]["end"], "@type": "xsd:date"},
                }
        node["dcat:distribution"] = [
            {
                "@type": "dcat:Distribution",
                "dct:identifier": f"{e['dataset_id']}/v{v['version']}",
                "dcat:byteSize": {"@value": v["size"], "@type": "xsd:nonNegativeInteger"},
                "spdx:checksum": {
                    "@type": "spdx:Checksum",
                    "spdx:algorithm": "spdx:checksumAlgorithm_sha256",
                    "spdx:checksumValue": v["plaintext_sha256"][2:],
                },
            }
            for v in e["versions"]
        ]
        datasets.append(node)
    return {
        "@context": {
            "dcat": "http://www.w3.org/ns/dcat#",
            "dct": "http://purl.org/dc/terms/",
            "foaf": "http://xmlns.com/foaf/0.1/",
            "vcard": "http://www.w3.org/2006/vcard/ns#",
            "xsd": "http://www.w3.org/2001/XMLSchema#",
            "spdx": "http://spdx.org/rdf/terms#",
            "skos": "http://www.w3.org/2004/02/skos/core#",
        },
        "@id": f"{base}/catalog",
        "@type": "dcat:Catalog",
        "dct:title": "Tanlian data catalog",
        "dcat:themeTaxonomy": {
            "@id": f"{base}/themes",
            "@type": "skos:ConceptScheme",
        },
        "dcat:dataset": datasets,
    }
