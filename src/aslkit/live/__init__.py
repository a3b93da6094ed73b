"""Live recognition of a stream (webcam, video file or URL): ``run_live``, its benchmark, and drawing on frames."""
