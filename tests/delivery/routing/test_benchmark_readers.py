"""The routing benchmark reads its instance files and best-known solutions correctly."""

from pathlib import Path

import pytest

from benchmarks.routing import DEFAULT_DATA, EXACT, read_bks, read_li_lim, read_solomon, read_vrplib, to_problem

pytestmark = pytest.mark.skipif(not (DEFAULT_DATA / "bks.csv").exists(), reason=f"no benchmark data at {DEFAULT_DATA}")


def data(*parts: str) -> Path:
    return DEFAULT_DATA.joinpath(*parts)


def test_reads_a_solomon_instance_and_its_best_known():
    instance = read_solomon(data("solomon", "C101.txt"))

    assert (instance.name, instance.customers, instance.vehicles, instance.capacity) == ("C101", 100, 25, 200)
    depot, first, last = instance.nodes[0], instance.nodes[1], instance.nodes[-1]
    assert (depot.x, depot.y, depot.due) == (40.0, 50.0, 1236)
    assert (first.x, first.y, first.demand, first.ready, first.due, first.service) == (45.0, 68.0, 10, 912, 967, 90)
    assert (last.index, last.demand, last.ready, last.due) == (100, 20, 647, 726)
    bks = read_bks(data("bks.csv"))
    assert bks["C101", "distance_only"].objective == 828.94
    assert bks["C101", "hierarchical"].vehicles == 10


def test_reads_a_li_lim_instance_as_pairs():
    instance = read_li_lim(data("li_lim", "lc101.txt"))

    assert (instance.customers, instance.vehicles, instance.capacity) == (106, 25, 200)
    pickups = [n for n in instance.nodes if n.delivery_sibling]
    deliveries = [n for n in instance.nodes if n.pickup_sibling]
    assert len(pickups) == len(deliveries) == 53
    assert all(instance.nodes[p.delivery_sibling].pickup_sibling == p.index for p in pickups)
    problem = to_problem(instance, EXACT)
    assert sum(stop.pickup_key is not None for stop in problem.stops) == 53
    assert read_bks(data("bks.csv"))["lc101", "distance_only"].objective == 828.937


def test_reads_a_vrplib_homberger_instance():
    instance = read_vrplib(data("homberger", "C1_10_1.vrp"))

    assert (instance.customers, instance.vehicles, instance.capacity) == (1000, 250, 200)
    depot, first = instance.nodes[0], instance.nodes[1]
    assert (depot.x, depot.y, depot.ready, depot.due, depot.service) == (250.0, 250.0, 0, 1824, 0)
    assert (first.x, first.y, first.demand, first.ready, first.due, first.service) == (387.0, 297.0, 10, 200, 270, 90)
    bks = read_bks(data("bks.csv"))
    assert bks["C1_10_1", "distance_only"].objective == 42444.8
    assert bks["C1_10_1", "hierarchical"].vehicles == 100
