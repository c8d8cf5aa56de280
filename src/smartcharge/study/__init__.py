"""Grid impact study: sweeps (Dask), hosting capacity, second peak, cost and carbon, HTML report."""
