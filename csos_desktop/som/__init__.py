"""Suspicious Order Monitoring (21 CFR 1301.74(b)): size, frequency and pattern checks.

Pure NumPy, no I/O except :mod:`csos_desktop.som.loaders`; the pharmacy client
and the distributor run the same code, so they reach the same decision.

    evaluate(order, history, policy, families) -> Assessment      # one order, before signing
    score(history, orders, policy, families) -> BatchScores       # a distributor's batch
"""

from csos_desktop.som.evaluate import BatchScores, evaluate, score
from csos_desktop.som.flags import Assessment, Decision, Flag, FlagCode, FlagKind, Severity
from csos_desktop.som.history import History, HistoryLine
from csos_desktop.som.policy import Policy, PolicyInvalid
from csos_desktop.som.review import OrderUnderReview, ReviewLine, review_from_order

__all__ = [
    "Assessment",
    "BatchScores",
    "Decision",
    "Flag",
    "FlagCode",
    "FlagKind",
    "History",
    "HistoryLine",
    "OrderUnderReview",
    "Policy",
    "PolicyInvalid",
    "ReviewLine",
    "Severity",
    "evaluate",
    "review_from_order",
    "score",
]
