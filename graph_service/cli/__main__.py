"""``python -m graph_service.cli``: the ``graph-service`` command."""

from graph_service.cli.main import main

raise SystemExit(main())
