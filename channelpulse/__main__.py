from channelpulse.cli import main

raise SystemExit(main())
