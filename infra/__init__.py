

if __name__ != "channelpulse.infra":  # the folder is importable under one name only (pyproject.toml)
    raise ImportError(f"infra/ is the package channelpulse.infra: import channelpulse.infra, not {__name__}")
