"""What a person sees: the HTTP server and the web app (UI only; live, detect and drawing sit below, as jobs)."""
