

if __name__ != "channelpulse.models":  # the folder is importable under one name only (pyproject.toml)
    raise ImportError(f"models/ is the package channelpulse.models: import channelpulse.models, not {__name__}")
