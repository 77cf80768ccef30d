"""Framework benches: each module serves one endpoint through negotiate and natively."""
