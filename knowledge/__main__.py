"""`python -m knowledge …`: the knowledge base's command line, for staff, reviewers and scripts."""

from knowledge.cli import main

raise SystemExit(main())
