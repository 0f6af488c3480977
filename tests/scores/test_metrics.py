"""APFD (with its edge cases), AUROC, AUPR and faults in the top k."""

from __future__ import annotations

import numpy as np
import pytest

from mnistlab.errors import MnistlabError
from mnistlab.scores import metrics as m


def test_apfd_hand_values() -> None:
    # n = 5, faults at positions 1 and 3 of the order -> 1 - 4/10 + 1/10 = 0.7
    scores = [0.9, 0.8, 0.7, 0.6, 0.5]
    faults = [True, False, True, False, False]
    assert m.apfd(scores, faults) == pytest.approx(0.7)
    # the same samples, shuffled: the order is by score, not by position
    perm = [3, 0, 4, 2, 1]
    assert m.apfd(np.array(scores)[perm], np.array(faults)[perm]) == pytest.approx(0.7)
    # the worst order: faults last (positions 4, 5) -> 1 - 9/10 + 1/10 = 0.2
    assert m.apfd([0.2, 0.9, 0.1, 0.8, 0.7], faults) == pytest.approx(0.2)


def test_apfd_edge_cases() -> None:
    assert np.isnan(m.apfd([0.1, 0.2], [False, False]))  # no fault: undefined
    assert np.isnan(m.apfd([], []))
    assert m.apfd([0.3, 0.1, 0.2], [True, True, True]) == pytest.approx(0.5)  # all faults
    assert m.apfd([0.5], [True]) == pytest.approx(0.5)


def test_apfd_ties_average_and_stable() -> None:
    # all tied: the expected APFD over tie-breaks is 0.5 whatever the positions
    assert m.apfd(np.zeros(4), [True, False, False, False]) == pytest.approx(0.5)
    assert m.apfd(np.zeros(4), [False, False, False, True]) == pytest.approx(0.5)
    # "stable": the input order among ties; 1 - 1/4 + 1/8 for the fault first
    assert m.apfd(np.zeros(4), [True, False, False, False], ties="stable") == pytest.approx(0.875)
    assert m.apfd(np.zeros(4), [False, False, False, True], ties="stable") == pytest.approx(0.125)
    # a partial tie: positions 1 and (2+3)/2 = 2.5 -> 1 - 3.5/6 + 1/6
    scores, faults = [0.9, 0.5, 0.5], [True, False, True]
    assert m.apfd(scores, faults) == pytest.approx(1 - 3.5 / 6 + 1 / 6)
    with pytest.raises(MnistlabError, match="ties"):
        m.apfd(scores, faults, ties="random")
    # issue 15's case: three tied at the top, the fault third. The one APFD (ties averaged)
    # gives 1 - 2/4 + 1/8; the report's old copy broke ties by input order (1 - 3/4 + 1/8).
    top = [1.0, 1.0, 1.0, 0.5]
    assert m.apfd(top, [False, False, True, False]) == 0.625
    assert m.apfd(top, [False, False, True, False], ties="stable") == 0.375


def test_apfd_random_order_is_near_half() -> None:
    rng = np.random.default_rng(0)
    faults = rng.random(20000) < 0.2
    assert m.apfd(rng.random(20000), faults) == pytest.approx(0.5, abs=0.01)
    ideal = m.apfd(faults.astype(float), faults)
    assert ideal == pytest.approx(1 - faults.mean() / 2)


def test_auroc_aupr_hand_values() -> None:
    scores = [0.9, 0.8, 0.7, 0.6]
    faults = [True, False, True, False]
    # positive-negative pairs ranked right: (0.9>0.8), (0.9>0.6), (0.7>0.6); wrong: (0.7<0.8)
    assert m.auroc(scores, faults) == pytest.approx(0.75)
    # precision at the two faults: 1/1 and 2/3
    assert m.aupr(scores, faults) == pytest.approx((1 + 2 / 3) / 2)
    assert np.isnan(m.auroc(scores, [False] * 4))
    assert np.isnan(m.auroc(scores, [True] * 4))
    assert np.isnan(m.aupr(scores, [False] * 4))
    assert m.auroc([0.5] * 4, faults) == pytest.approx(0.5)


def test_faults_in_top_k_and_evaluate() -> None:
    scores = [0.1, 0.9, 0.5, 0.7]
    faults = np.array([1, 1, 0, 0])
    assert m.faults_in_top_k(scores, faults, 1) == 1
    assert m.faults_in_top_k(scores, faults, 2) == 1
    assert m.faults_in_top_k(scores, faults, 10) == 2
    out = m.evaluate_ranking(scores, faults, k=(1, 3))
    assert out["n"] == 4 and out["faults"] == 2
    assert out["found@1"] == 1 and out["recall@3"] == pytest.approx(0.5)
    assert out["apfd"] == pytest.approx(m.apfd(scores, faults))
    none = m.evaluate_ranking(scores, np.zeros(4, dtype=bool), k=(2,))
    assert np.isnan(none["recall@2"]) and np.isnan(none["apfd"])
    with pytest.raises(MnistlabError, match="k:"):
        m.faults_in_top_k(scores, faults, -1)


def test_ranking_input_errors() -> None:
    with pytest.raises(MnistlabError, match="scores"):
        m.apfd(np.zeros((2, 2)), [True, False])
    with pytest.raises(MnistlabError, match="faults"):
        m.apfd([0.1, 0.2], [True])
    with pytest.raises(MnistlabError, match="booleans"):
        m.apfd([0.1, 0.2], [2, 0])
    with pytest.raises(MnistlabError, match="NaN"):
        m.apfd([np.nan, 0.2], [True, False])


def test_faults_found_curve_hand_computed():
    # order by score: samples 0 (fault), 2 (fault), 3, 1
    x, y = m.faults_found_curve([0.9, 0.1, 0.5, 0.2], [True, False, True, False], points=5)
    assert x.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert y.tolist() == [0.0, 0.5, 1.0, 1.0, 1.0]
    # ties keep sample order: the fault at index 1 is found second
    _, y = m.faults_found_curve([1.0, 1.0, 0.0], [False, True, False], points=4)
    assert y.tolist() == [0.0, 0.0, 1.0, 1.0]
    # no fault: nothing to find; ideal and worst orders bracket every other order
    assert m.faults_found_curve([0.3, 0.2], [False, False])[1].max() == 0.0
    faults = np.array([True, False, False, True, False])
    ideal = m.faults_found_curve(faults.astype(float), faults)[1]
    worst = m.faults_found_curve(-faults.astype(float), faults)[1]
    some = m.faults_found_curve(np.arange(5.0), faults)[1]
    assert (ideal >= some).all() and (some >= worst).all()
    with pytest.raises(MnistlabError, match="one length"):
        m.faults_found_curve([0.1, 0.2], [True])
    with pytest.raises(MnistlabError, match="points must be at least 2"):
        m.faults_found_curve([0.1], [True], points=1)
