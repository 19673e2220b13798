"""The web layer: REST endpoints, server-rendered pages, links and request middleware. Thin: the work is in the domain packages."""
