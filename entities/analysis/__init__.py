"""Looking across a case file's or a dataset's data: the network, paths, exports, red flags.

Modules: graph (the visible graph and neighbourhood expansion in SQL), paths (shortest
connections), exports (GEXF, GraphML), layout (saved network positions), flags/ (red-flag
detectors and their runs), screening (batch name screening), matching (the name matcher they
share), models (NetworkLayout, FlagRun, FlagHit; registered through entities.models).
"""
