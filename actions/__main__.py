from actions.server import main

raise SystemExit(main())
