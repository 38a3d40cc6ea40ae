"""Gateway routes and flows that act on running agents: they span the agents domain and the
runtime (the supervisor), so they live above both."""
