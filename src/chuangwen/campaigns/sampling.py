"""Stratified random sampling of schools by school type, reproducible from a recorded seed.

Allocation is proportional to each stratum's size with largest-remainder rounding; when n is at least the
number of non-empty strata every stratum gets at least one school (taken from the stratum most above its
exact share, so a tiny stratum is represented even where strict proportion would give it none).
Within a stratum the schools are ordered by id before `random.Random(seed).sample`, so the same
population, n and seed always give the same draw.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from django.core.exceptions import ValidationError


@dataclass(frozen=True)
class Draw:
    schools: list  # the drawn schools, stratum by stratum
    strata: dict[str, dict[str, int]]  # school type → {"drawn": …, "population": …}
    seed: int


def allocate(populations: dict[str, int], n: int) -> dict[str, int]:
    """How many to draw from each stratum (keys in sorted order decide ties)."""
    keys = sorted(k for k, p in populations.items() if p > 0)
    total = sum(populations[k] for k in keys)
    if n >= total:
        return {k: populations[k] for k in keys}
    quotas = {k: Fraction(n * populations[k], total) for k in keys}
    alloc = {k: math.floor(quotas[k]) for k in keys}
    left = n - sum(alloc.values())
    by_remainder = sorted(keys, key=lambda k: (-(quotas[k] - alloc[k]), keys.index(k)))
    for k in by_remainder[:left]:
        alloc[k] += 1
    if n >= len(keys):
        for k in keys:
            if alloc[k] == 0:
                donors = [d for d in keys if alloc[d] > 1]
                donor = max(donors, key=lambda d: (alloc[d] - quotas[d], -keys.index(d)))
                alloc[donor] -= 1
                alloc[k] = 1
    return alloc


def draw(schools: Iterable, n: int, seed: int) -> Draw:
    """Draw n schools stratified by `school_type`, reproducibly from `seed`."""
    if n < 1:
        raise ValidationError("抽样数必须至少为 1")
    strata: dict[str, list] = defaultdict(list)
    for school in schools:
        strata[school.school_type or ""].append(school)
    if not strata:
        raise ValidationError("没有可抽样的学校")
    for members in strata.values():
        members.sort(key=lambda s: s.pk)
    alloc = allocate({k: len(v) for k, v in strata.items()}, n)
    rng = random.Random(seed)  # noqa: S311 (reproducible sampling, not cryptography)
    drawn: list = []
    for key in sorted(strata):
        drawn.extend(rng.sample(strata[key], alloc[key]))
    record = {k: {"drawn": alloc[k], "population": len(strata[k])} for k in sorted(strata)}
    return Draw(schools=drawn, strata=record, seed=seed)
