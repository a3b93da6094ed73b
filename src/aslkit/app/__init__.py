"""What a person sees: the live window and annotated video (and, later, the web app)."""
