"""Looking across a case file's or a dataset's data: trade flows, the network, paths, exports,
red flags and screening.

Modules: flows (trade flows as a table, in SQL), charts (their SVG charts), hs (HS chapter and
heading names), graph (the visible graph and neighbourhood expansion in SQL), paths (shortest
connections), exports (GEXF, GraphML), layout (saved network positions), flags/ (red-flag
detectors and their runs), screening (batch name screening), matching (the name matcher they
share), forms, views and flag_views (the pages), models (NetworkLayout, FlagRun, FlagHit;
registered through entities.models).
"""
