"""Sub-commands of the `channelpulse` command line, one module each with `register(subparsers)`."""
