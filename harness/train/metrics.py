"""Evaluation metrics as plain functions: next-token accuracy (run_clm's shift) and perplexity."""

import math

import numpy as np


def preprocess_logits_for_metrics(logits, labels):
    """Keep only the argmax ids, so evaluation never holds the full (batch, block, vocab) logits."""
    if isinstance(logits, tuple):
        logits = logits[0]
    return logits.argmax(dim=-1)


def next_token_accuracy(predictions, labels) -> float:
    """The prediction at position i is for the token at i + 1; positions labelled -100 do not count."""
    predicted = np.asarray(predictions)[:, :-1].reshape(-1)
    target = np.asarray(labels)[:, 1:].reshape(-1)
    mask = target != -100
    if not mask.any():
        return float("nan")
    return float((predicted[mask] == target[mask]).mean())


def compute_metrics(eval_prediction) -> dict:
    predictions, labels = eval_prediction
    return {"accuracy": next_token_accuracy(predictions, labels)}


def perplexity(loss: float) -> float:
    try:
        return math.exp(loss)
    except OverflowError:
        return float("inf")
