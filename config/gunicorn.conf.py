"""gunicorn's settings: `gunicorn -c config/gunicorn.conf.py wsgi:app` (`make run` does so).

The access log goes through careplan.access_log.RedactingLogger, which cuts the tokens of calendar feeds and
e-mail links out of paths and referers, and every value out of query strings, before a line is written.
"""
logger_class = "careplan.access_log.RedactingLogger"
accesslog = "-"
