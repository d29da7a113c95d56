"""Analytics on the collaboration graph: pure functions over networkx graphs.

Every function takes the store's graph (an ``nx.MultiDiGraph`` keyed by tie id, as
:func:`graph_service.graphview.build_graph` makes it) first and returns plain data
(dicts, lists, numbers), so both backends give the same answers and the API and the
CLI share them through :mod:`graph_service.questions`.
"""
