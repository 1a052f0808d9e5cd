"""Calibration: one posterior across episodes by ABC-SMC (pyabc), and what is built on it.

- :mod:`sim.fit.problem`: the episodes fitted together, their parameters (priors from each config's
  ``[[calibration.priors]]``, shared or per episode) and the model variants compared;
- :mod:`sim.fit.distance`: summary statistics of runs and their distance to an episode's data and targets;
- :mod:`sim.fit.abc`: the ABC-SMC run with pyabc's samplers, and what it writes (posterior, manifest);
- :mod:`sim.fit.posterior`: reading a posterior, weighted quantiles, seeded draws, applying a draw to a config.
"""
