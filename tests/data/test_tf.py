"""Tests for the TensorFlow set-up shared by the tf.data pipelines (`mixjax.data._tf`)."""

from __future__ import annotations

import importlib

import pytest

tf = pytest.importorskip("tensorflow")

from mixjax.data import _tf  # noqa: E402


def test_deterministic_options():
  options = _tf.deterministic_options()
  assert isinstance(options, tf.data.Options) and options.deterministic is True
  assert _tf.deterministic_options() is not options  # A fresh object: callers may add to it.


def test_importing_it_hides_every_gpu_from_tensorflow(monkeypatch):
  calls = []
  monkeypatch.setattr(tf.config, "set_visible_devices", lambda *a: calls.append(a))
  importlib.reload(_tf)
  assert calls == [([], "GPU")]


def test_an_already_initialised_tensorflow_is_left_as_it_is(monkeypatch):
  def initialised(*args):
    raise RuntimeError("Visible devices cannot be modified after being initialized")

  monkeypatch.setattr(tf.config, "set_visible_devices", initialised)
  importlib.reload(_tf)  # Does not raise.
