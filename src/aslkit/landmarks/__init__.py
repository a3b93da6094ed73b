"""Landmarks from images and videos (MediaPipe), and the features models read from them."""

import os

# MediaPipe's C++ logging prints a screen of warnings per graph; set before mediapipe is first imported.
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
