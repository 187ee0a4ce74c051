import math

import numpy as np
import torch

from harness.train.metrics import next_token_accuracy, perplexity, preprocess_logits_for_metrics


def test_accuracy_compares_prediction_at_i_with_token_at_i_plus_1():
    labels = np.array([[5, 6, 7, 8]])
    shifted_right = np.array([[6, 7, 8, 0]])  # predicts the next token perfectly; the last is ignored
    assert next_token_accuracy(shifted_right, labels) == 1.0
    assert next_token_accuracy(labels, labels) == 0.0


def test_accuracy_ignores_masked_labels():
    labels = np.array([[1, 2, 3, -100]])
    preds = np.array([[2, 9, 9, 9]])  # targets 2, 3, masked: one right, one wrong, one not counted
    assert next_token_accuracy(preds, labels) == 0.5


def test_preprocess_keeps_only_argmax_ids():
    logits = torch.zeros(2, 3, 10)
    logits[:, :, 7] = 1.0
    out = preprocess_logits_for_metrics((logits,), None)
    assert out.shape == (2, 3) and out.dtype == torch.int64 and (out == 7).all()


def test_perplexity():
    assert perplexity(0.0) == 1.0
    assert math.isclose(perplexity(1.9482), 7.0158, rel_tol=1e-4)
    assert perplexity(1e6) == float("inf")
