"""Model providers: their health (reachable, key present) and the models an endpoint offers."""
