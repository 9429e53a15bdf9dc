"""Settings per environment; `careplan.create_app` loads one and lets the environment override it."""
