"""The interactive browser page (Mesa + solara): ``sim viz [CONFIG]`` serves it, ``sim assets`` fetches its
JavaScript for offline machines. See docs/VIZ.md.

Modules: :mod:`~sim.viz.app` (the solara page), :mod:`~sim.viz.session` (the page's model, scenarios, seeds,
live events), :mod:`~sim.viz.drawing` (network and chart pictures), :mod:`~sim.viz.layout` (cached node
positions), :mod:`~sim.viz.server` (``serve``), :mod:`~sim.viz.assets` (``fill_solara_cache``). Importing
this package imports none of them, so ``sim`` stays fast to start.
"""
