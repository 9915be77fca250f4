"""lottery_tf: lottery-ticket experiments on TensorFlow, tf_keras and tfmot.

tfmot 0.8.1 only accepts Keras 2 models, so the legacy-Keras switch must be set
before TensorFlow is imported anywhere in the process.
"""
import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
