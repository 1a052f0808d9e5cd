"""Policy exploration (``sim explore``): many sampled scenarios of what is uncertain, each under several
policies (choices of the levers), run through the experiment layer and analysed with the EMA Workbench.

- :mod:`sim.explore.config`: the ``[explore]`` table (uncertainties, levers, outcomes, predicates, PRIM);
- :mod:`sim.explore.outcomes`: built-in outcomes as expressions of the time series, predicates on them;
- :mod:`sim.explore.design`: scenarios x policies as an experiment with common random numbers;
- :mod:`sim.explore.run`: running it into a results folder (resume, failed runs, pool or dask);
- :mod:`sim.explore.analysis`: PRIM, feature scoring and the policies' robustness;
- :mod:`sim.explore.files`: the analysis as saved (``<folder>/explore/``) and read back for figures;
- :mod:`sim.explore.report`: the findings as printed text.

Nothing is imported here, so ``sim --help`` and worker processes stay fast.
"""
