"""`python infer.py --serve`: a page to draw a digit on (web/), and POST /predict (server.py)."""
