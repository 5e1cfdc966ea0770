from dataclasses import dataclass

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from chuangwen.campaigns.sampling import allocate, draw


@dataclass(frozen=True)
class FakeSchool:
    pk: int
    school_type: str


def population(sizes: dict[str, int]) -> list[FakeSchool]:
    schools, pk = [], 0
    for kind, size in sizes.items():
        for _ in range(size):
            pk += 1
            schools.append(FakeSchool(pk, kind))
    return schools


def test_draw_is_reproducible_from_the_seed():
    schools = population({"primary": 30, "junior": 12, "senior": 5})
    first = draw(schools, 10, seed=42)
    again = draw(list(reversed(schools)), 10, seed=42)
    assert [s.pk for s in first.schools] == [s.pk for s in again.schools]
    assert first.strata == again.strata
    assert first.seed == 42


def test_a_different_seed_gives_a_different_draw():
    schools = population({"primary": 30, "junior": 12, "senior": 5})
    assert {s.pk for s in draw(schools, 10, seed=1).schools} != {
        s.pk for s in draw(schools, 10, seed=2).schools
    }


def test_strata_are_proportional_with_largest_remainder():
    schools = population({"primary": 7, "junior": 5, "senior": 3})
    result = draw(schools, 6, seed=7)
    # quotas 2.8, 2.0, 1.2 → floors 2, 2, 1 and the one left goes to the largest remainder (primary)
    assert result.strata == {
        "junior": {"drawn": 2, "population": 5},
        "primary": {"drawn": 3, "population": 7},
        "senior": {"drawn": 1, "population": 3},
    }
    for kind, s in result.strata.items():
        assert sum(1 for x in result.schools if x.school_type == kind) == s["drawn"]
    assert len({s.pk for s in result.schools}) == 6


def test_every_non_empty_stratum_gets_one_when_n_allows():
    result = draw(population({"primary": 97, "special": 1, "vocational": 2}), 3, seed=3)
    assert {k: v["drawn"] for k, v in result.strata.items()} == {"primary": 1, "special": 1, "vocational": 1}


def test_n_at_least_the_population_takes_everyone():
    schools = population({"primary": 2, "junior": 1})
    assert {s.pk for s in draw(schools, 10, seed=0).schools} == {1, 2, 3}


def test_bad_input_is_refused():
    with pytest.raises(ValidationError):
        draw(population({"primary": 3}), 0, seed=1)
    with pytest.raises(ValidationError):
        draw([], 3, seed=1)


@given(
    sizes=st.dictionaries(st.sampled_from(["a", "b", "c", "d", "e"]), st.integers(0, 40), min_size=1),
    n=st.integers(1, 120),
)
def test_allocation_properties(sizes, n):
    alloc = allocate(sizes, n)
    nonempty = {k: v for k, v in sizes.items() if v > 0}
    total = sum(nonempty.values())
    assert set(alloc) == set(nonempty)
    assert sum(alloc.values()) == min(n, total)
    assert all(0 <= alloc[k] <= nonempty[k] for k in alloc)
    if n >= len(nonempty):
        assert all(alloc[k] >= 1 for k in alloc)
    if total and n < total and all(n * v / total >= 1 for v in nonempty.values()):
        # Where the minimum-one rule does not bind, each stratum is within 1 of its exact share.
        assert all(abs(alloc[k] - n * nonempty[k] / total) < 1 for k in alloc)
